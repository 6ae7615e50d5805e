package com.mailrelay.message;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;

/**
 * The send time a client asks for (REST {@code send_at}, SMTP {@code X-Relay-Send-At} or Mandrill's
 * {@code X-MC-SendAt}), read the same way by both ingresses so that they refuse the same things
 * with the same words: the caller names the field or header and answers 400 or 550 5.6.0.
 * <p>
 * Canonical and bounded: RFC 3339 with an offset or Z, nothing looser (a time without an offset
 * means a different instant on every machine); at most the horizon ahead (relay.scheduling.horizon),
 * and, so that a wrong year is not taken for "now", at most as far in the past. A time in the past
 * within that bound, or now, is sent at once.
 */
public final class SendTimes {

    /** RFC 3339 §5.6 date-time, upper-case T and Z, at most nanoseconds: the shape, before the calendar. */
    private static final Pattern RFC_3339 = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})");
    /** Mandrill's send_at: "YYYY-MM-DD HH:MM:SS", always UTC. */
    private static final Pattern MANDRILL = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}");
    private static final DateTimeFormatter STRICT_RFC_3339 = DateTimeFormatter.ISO_OFFSET_DATE_TIME
            .withResolverStyle(ResolverStyle.STRICT);
    private static final DateTimeFormatter STRICT_MANDRILL = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss")
            .withResolverStyle(ResolverStyle.STRICT);

    /** A send time read: {@code at} when it is acceptable, else {@code problem} saying why not. */
    public record Checked(Instant at, String problem) {

        public boolean valid() {
            return problem == null;
        }
    }

    private final Duration horizon;
    private final Clock clock;

    public SendTimes(Duration horizon, Clock clock) {
        this.horizon = horizon;
        this.clock = clock;
    }

    /** An RFC 3339 date-time with an offset or Z (2026-12-01T10:00:00Z, 2026-12-01T11:00:00.5+01:00). */
    public Checked rfc3339(String value) {
        String problem = "must be a time in RFC 3339 with an offset or Z, e.g. 2026-12-01T10:00:00Z";
        if (value == null || !RFC_3339.matcher(value).matches()) {
            return new Checked(null, problem);
        }
        try {
            return bounded(OffsetDateTime.parse(value, STRICT_RFC_3339).toInstant());
        } catch (DateTimeException e) {
            // The shape was right, the calendar not (2026-02-30, 25:00, an offset beyond ±18:00).
            return new Checked(null, problem + " (no such date, time or offset)");
        }
    }

    /** Mandrill's form, "2026-12-01 10:00:00", which is always UTC. */
    public Checked mandrill(String value) {
        String problem = "must be a UTC time as YYYY-MM-DD HH:MM:SS, e.g. 2026-12-01 10:00:00";
        if (value == null || !MANDRILL.matcher(value).matches()) {
            return new Checked(null, problem);
        }
        try {
            return bounded(LocalDateTime.parse(value, STRICT_MANDRILL).toInstant(ZoneOffset.UTC));
        } catch (DateTimeException e) {
            return new Checked(null, problem + " (no such date or time)");
        }
    }

    private Checked bounded(Instant at) {
        Instant now = clock.instant();
        if (at.isAfter(now.plus(horizon))) {
            return new Checked(null, "is more than the scheduling horizon of " + text(horizon)
                    + " ahead (relay.scheduling.horizon): at most " + now.plus(horizon).truncatedTo(ChronoUnit.SECONDS));
        }
        if (at.isBefore(now.minus(horizon))) {
            return new Checked(null, "is more than " + text(horizon) + " in the past (relay.scheduling.horizon):"
                    + " a time in the past is sent at once, but one this old is taken for a mistake");
        }
        return new Checked(at, null);
    }

    /** The horizon as an operator writes it: 30d, 12h, 90m, 45s. */
    static String text(Duration duration) {
        long seconds = duration.getSeconds();
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
