package com.mailrelay.message;

import java.io.UnsupportedEncodingException;
import java.net.IDN;
import java.util.Locale;
import java.util.Optional;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;

/**
 * Address rules shared by both ingresses, and the one canonical form of an envelope address.
 *
 * <p>An envelope address (SMTP {@code MAIL FROM} / {@code RCPT TO}, and the envelope REST builds
 * from its to/cc/bcc) is only ever the bare RFC 5321 {@code Mailbox}: no display name, no
 * comment, no spaces. Two spellings of one mailbox must be one string, or the suppression list,
 * de-duplication, events and tracking tokens would each see a different recipient (an
 * UNSUBSCRIBED {@code bob@x.org} was mailed as {@code "bob"@X.ORG}). {@link #canonical} makes
 * that string:
 * <ul>
 *   <li>the local part is unquoted when its quotes are not needed ({@code "bob"} → {@code bob});
 *       one that needs them ({@code "john doe"}) keeps them, with only the escapes RFC 5321
 *       requires; its case is kept for delivery (RFC 5321 lets the receiving host tell cases
 *       apart), while every comparison uses {@link #key}, which lower-cases the whole address as
 *       the suppression list always has;</li>
 *   <li>the domain is lower-case ASCII: an internationalised domain becomes its punycode A-label
 *       ({@link IDN#toASCII}), so {@code bücher.de} and {@code xn--bcher-kva.de} are one;</li>
 *   <li>a source route ({@code @a,@b:user@c}) is dropped: RFC 5321 §3.3 and Appendix C say a
 *       server SHOULD ignore it, and what is left is the mailbox it names;</li>
 *   <li>the length (at most 254 octets, so that the path fits RFC 5321's 256 and every column)
 *       is checked after all of that, since punycode makes a domain longer.</li>
 * </ul>
 * Refused: non-ASCII local parts (the relay does not offer SMTPUTF8, and upstreams may not
 * either), address literals ({@code user@[192.0.2.1]}: no tenant needs them, and they would
 * bypass every domain rule), empty or malformed labels, and any character RFC 5321 does not
 * allow in a path.
 */
public final class Addresses {

    public static final int MAX_LENGTH = 254;
    /** Longer input is not looked at: no valid address, however spelt, is this long. */
    private static final int MAX_INPUT = 1000;
    private static final String ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";

    private Addresses() {
    }

    /** Why a value is not a valid address. */
    public static final class InvalidAddressException extends IllegalArgumentException {
        public InvalidAddressException(String reason) {
            super(reason);
        }
    }

    /**
     * The canonical form of a bare RFC 5321 mailbox (what is between {@code <} and {@code >} of
     * an SMTP path, or an addr-spec).
     *
     * @throws InvalidAddressException with the reason, for anything else
     */
    public static String canonical(String path) {
        if (path == null || path.isEmpty()) {
            throw new InvalidAddressException("is required");
        }
        if (path.length() > MAX_INPUT) {
            throw new InvalidAddressException("is longer than " + MAX_LENGTH + " characters");
        }
        String control = controlCharacter(path, false);
        if (control != null) {
            throw new InvalidAddressException("must not contain control characters (found " + control + ")");
        }
        String mailbox = withoutSourceRoute(path);
        StringBuilder local = new StringBuilder();
        int at = localPart(mailbox, local);
        if (at >= mailbox.length() || mailbox.charAt(at) != '@') {
            throw new InvalidAddressException(at < mailbox.length() && mailbox.charAt(at) == ' '
                    ? "must be a bare address (no display name, comment or spaces)"
                    : "must have a domain (user@example.com)");
        }
        String domain = domain(mailbox.substring(at + 1));
        String address = localText(local.toString()) + "@" + domain;
        if (address.length() > MAX_LENGTH) {
            throw new InvalidAddressException("is longer than " + MAX_LENGTH + " characters");
        }
        return address;
    }

    /** Why a bare mailbox is not acceptable ({@link #canonical}), or empty when it is. */
    public static Optional<String> pathProblem(String path) {
        try {
            canonical(path);
            return Optional.empty();
        } catch (InvalidAddressException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * Checks {@code "Name <user@example.com>"} or {@code "user@example.com"} (an RFC 5322
     * address, as REST takes them and headers hold them), whose address must pass {@link #canonical}.
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
        String control = controlCharacter(value, false);
        if (control != null) {
            return Optional.of("must not contain control characters (found " + control + ")");
        }
        if (value.length() > MAX_INPUT) {
            return Optional.of("is longer than " + MAX_INPUT + " characters");
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
        return pathProblem(parsed.getAddress());
    }

    /** The canonical envelope address of a value that passed {@link #problem} (the display name dropped). */
    public static String bare(String value) {
        return canonical(rfc5322(value).getAddress());
    }

    /** The address of a value that passed {@link #problem}, for a header: its display name, the canonical address. */
    public static InternetAddress parse(String value) {
        InternetAddress parsed = rfc5322(value);
        try {
            return new InternetAddress(canonical(parsed.getAddress()), parsed.getPersonal(), "UTF-8");
        } catch (UnsupportedEncodingException e) {
            throw new IllegalStateException("UTF-8 is always supported", e);
        }
    }

    /**
     * The canonical address of a value in any of the forms above, or empty when it is not a
     * valid one: for addresses the relay did not check itself (provider events, API paths).
     */
    public static Optional<String> canonicalOf(String value) {
        if (value == null) {
            return Optional.empty();
        }
        if (pathProblem(value.trim()).isEmpty()) {
            return Optional.of(canonical(value.trim()));
        }
        return problem(value).isEmpty() ? Optional.of(bare(value)) : Optional.empty();
    }

    /**
     * What every comparison of recipients uses (suppression list, de-duplication, per-recipient
     * variables): the canonical address, lower-cased. A value that is not an address at all is
     * only lower-cased, so that rows written before canonical forms existed still match themselves.
     */
    public static String key(String address) {
        return canonicalOf(address).orElse(address == null ? "" : address.trim()).toLowerCase(Locale.ROOT);
    }

    /** The domain of a canonical address. */
    public static String domainOf(String canonical) {
        return canonical.substring(canonical.lastIndexOf('@') + 1);
    }

    /**
     * A domain as it is compared (sender domains): lower-case ASCII, IDN as punycode.
     *
     * @throws InvalidAddressException when it is not a valid domain name
     */
    public static String canonicalDomain(String domain) {
        return domain(domain);
    }

    /**
     * The first control character of a value, as {@code U+0000}, or null: C0 controls other than
     * TAB, and DEL. CR and LF count too unless {@code lineBreaksAllowed}. PostgreSQL cannot store
     * NUL in text, and none of them belongs in a subject, header, tag or name.
     */
    public static String controlCharacter(String value, boolean lineBreaksAllowed) {
        if (value == null) {
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t' && !(lineBreaksAllowed && (c == '\r' || c == '\n'))) || c == 0x7f) {
                return String.format("U+%04X", (int) c);
            }
        }
        return null;
    }

    private static InternetAddress rfc5322(String value) {
        try {
            return new InternetAddress(value, true);
        } catch (AddressException e) {
            throw new IllegalArgumentException("address was not validated first: " + value, e);
        }
    }

    /** {@code @a,@b:user@c} → {@code user@c}, each hop checked as a domain. */
    private static String withoutSourceRoute(String path) {
        if (path.charAt(0) != '@') {
            return path;
        }
        int colon = path.indexOf(':');
        if (colon < 0) {
            throw new InvalidAddressException("must have a local part before the @ (user@example.com)");
        }
        for (String hop : path.substring(0, colon).split(",", -1)) {
            if (hop.length() < 2 || hop.charAt(0) != '@') {
                throw new InvalidAddressException("has a malformed source route (@host,@host:user@domain)");
            }
            domain(hop.substring(1));
        }
        return path.substring(colon + 1);
    }

    /**
     * Reads the local part (Dot-string or Quoted-string) into {@code local} as its unquoted
     * content, and returns the index just past it.
     */
    private static int localPart(String mailbox, StringBuilder local) {
        int i = 0;
        if (mailbox.startsWith("\"")) {
            i = 1;
            while (true) {
                if (i >= mailbox.length()) {
                    throw new InvalidAddressException("has an unterminated quoted local part");
                }
                char c = mailbox.charAt(i);
                if (c == '"') {
                    i++;
                    break;
                }
                if (c == '\\') {
                    if (i + 1 >= mailbox.length() || !isPrintableAscii(mailbox.charAt(i + 1))) {
                        throw new InvalidAddressException("has a malformed quoted local part");
                    }
                    local.append(mailbox.charAt(i + 1));
                    i += 2;
                    continue;
                }
                if (!isPrintableAscii(c)) {
                    throw new InvalidAddressException(c > 0x7f
                            ? "must have an ASCII local part (the relay does not offer SMTPUTF8)"
                            : "has a malformed quoted local part");
                }
                local.append(c);
                i++;
            }
            return i;
        }
        while (i < mailbox.length() && mailbox.charAt(i) != '@' && mailbox.charAt(i) != ' ') {
            char c = mailbox.charAt(i);
            if (c > 0x7f) {
                throw new InvalidAddressException("must have an ASCII local part (the relay does not offer SMTPUTF8)");
            }
            if (!isAtext(c) && c != '.') {
                throw new InvalidAddressException("must be a bare address: '" + c
                        + "' is not allowed in an unquoted local part (no display name or comment)");
            }
            local.append(c);
            i++;
        }
        if (local.isEmpty()) {
            throw new InvalidAddressException("must have a local part before the @ (user@example.com)");
        }
        if (!isDotString(local)) {
            throw new InvalidAddressException("has an empty part between dots in its local part");
        }
        return i;
    }

    /** The local part as written canonically: bare when it is a Dot-string, else quoted with minimal escapes. */
    private static String localText(String content) {
        if (!content.isEmpty() && isDotString(content)) {
            return content;
        }
        StringBuilder quoted = new StringBuilder(content.length() + 2).append('"');
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            if (c == '"' || c == '\\') {
                quoted.append('\\');
            }
            quoted.append(c);
        }
        return quoted.append('"').toString();
    }

    private static String domain(String domain) {
        if (domain == null || domain.isEmpty()) {
            throw new InvalidAddressException("must have a domain (user@example.com)");
        }
        if (domain.charAt(0) == '[') {
            throw new InvalidAddressException("must have a domain name: address literals ([192.0.2.1]) are not accepted");
        }
        if (domain.chars().anyMatch(c -> Character.isWhitespace(c) || "()<>,;:\"[]\\".indexOf(c) >= 0)) {
            throw new InvalidAddressException("must be a bare address (no display name, comment or spaces)");
        }
        String ascii;
        try {
            ascii = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new InvalidAddressException("has an invalid domain: " + e.getMessage());
        }
        if (ascii.length() > MAX_LENGTH) {
            throw new InvalidAddressException("has a domain longer than " + MAX_LENGTH + " characters");
        }
        // toASCII leaves a trailing dot and empty labels to us; RFC 5321 allows neither.
        for (String label : ascii.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
                    || !label.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                throw new InvalidAddressException("has an invalid domain (labels of letters, digits and inner"
                        + " hyphens, 1 to 63 each, separated by single dots): " + domain);
            }
        }
        return ascii;
    }

    private static boolean isDotString(CharSequence text) {
        if (text.isEmpty() || text.charAt(0) == '.' || text.charAt(text.length() - 1) == '.') {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '.' ? text.charAt(i - 1) == '.' : !isAtext(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAtext(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || ATEXT_SPECIALS.indexOf(c) >= 0;
    }

    /** qtextSMTP and the characters of quoted-pairSMTP: printable ASCII and space. */
    private static boolean isPrintableAscii(char c) {
        return c >= 0x20 && c <= 0x7e;
    }
}
