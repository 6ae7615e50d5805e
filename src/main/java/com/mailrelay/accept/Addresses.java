package com.mailrelay.accept;

import java.util.Optional;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;

/** Address rules shared by both ingresses (RFC 5321 §4.5.3.1: a path is at most 256 octets, an address 254). */
public final class Addresses {

    public static final int MAX_LENGTH = 254;

    private Addresses() {
    }

    /**
     * Parses {@code "Name <user@example.com>"} or {@code "user@example.com"}.
     *
     * @return the reason it is not acceptable, or empty when it is
     */
    public static Optional<String> problem(String value) {
        if (value == null || value.isBlank()) {
            return Optional.of("is required");
        }
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            return Optional.of("must not contain CR or LF");
        }
        InternetAddress parsed;
        try {
            parsed = new InternetAddress(value, true);
        } catch (AddressException e) {
            return Optional.of("is not a valid address: " + e.getMessage());
        }
        if (parsed.isGroup()) {
            // "team: a@x.org, b@y.org;" would bypass the recipient cap and the suppression list
            return Optional.of("must be a single address, not a group");
        }
        String address = parsed.getAddress();
        if (address.length() > MAX_LENGTH) {
            return Optional.of("is longer than " + MAX_LENGTH + " characters");
        }
        int at = address.lastIndexOf('@');
        if (at <= 0 || at == address.length() - 1) {
            return Optional.of("must have a domain (user@example.com)");
        }
        return Optional.empty();
    }

    /** The bare address of a value that passed {@link #problem}. */
    public static String bare(String value) {
        try {
            return new InternetAddress(value, true).getAddress();
        } catch (AddressException e) {
            throw new IllegalArgumentException("address was not validated first: " + value, e);
        }
    }

    public static InternetAddress parse(String value) {
        try {
            return new InternetAddress(value, true);
        } catch (AddressException e) {
            throw new IllegalArgumentException("address was not validated first: " + value, e);
        }
    }
}
