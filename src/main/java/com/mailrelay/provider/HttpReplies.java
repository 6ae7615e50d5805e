package com.mailrelay.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * What every HTTP provider's answer means before its own error codes are read (each provider's
 * classifier calls this for what its documentation leaves to HTTP): 429 and 5xx are transient,
 * with {@code Retry-After} (seconds or an HTTP date) as the earliest next attempt; 401 and 403
 * are a {@link ProviderConfigurationException}; 408 is transient; any other 4xx is permanent.
 */
public final class HttpReplies {

    /** How much of a provider's answer is kept with the message (last_error, events). */
    public static final int KEPT = 500;

    private HttpReplies() {
    }

    /** Null for a 2xx answer, else the failure it means. */
    public static DeliveryException classify(String providerId, int status, String retryAfter, String body,
                                             Clock clock) {
        if (status >= 200 && status < 300) {
            return null;
        }
        String reply = "HTTP " + status + (body == null || body.isBlank() ? "" : ": " + start(body));
        if (status == 429 || status >= 500 || status == 408) {
            return new TransientDeliveryException(providerId, status, reply, retryAfter(retryAfter, clock), null);
        }
        if (status == 401 || status == 403) {
            return new ProviderConfigurationException(providerId, status, reply, null);
        }
        if (status >= 400) {
            return new PermanentDeliveryException(providerId, status, reply, null);
        }
        // 1xx or 3xx: not an answer a send call should get (a redirect points to a wrong base URL).
        return new ProviderConfigurationException(providerId, status, reply, null);
    }

    /** The start of a provider's answer on one line, at most {@value #KEPT} characters. */
    public static String start(String body) {
        String line = body.strip().replaceAll("\\s+", " ");
        return line.length() <= KEPT ? line : line.substring(0, KEPT) + "…";
    }

    /** {@code Retry-After} as seconds (RFC 9110 delay-seconds) or an HTTP date; null if absent or unreadable. */
    public static Duration retryAfter(String value, Clock clock) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String trimmed = value.trim();
        try {
            long seconds = Long.parseLong(trimmed);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(trimmed, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration wait = Duration.between(clock.instant(), at.toInstant());
                return wait.isNegative() ? Duration.ZERO : wait;
            } catch (DateTimeParseException unreadable) {
                return null;
            }
        }
    }
}
