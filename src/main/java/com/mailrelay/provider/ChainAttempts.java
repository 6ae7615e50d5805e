package com.mailrelay.provider;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.message.DeliveryAttempt;
import com.mailrelay.message.DeliveryAttempt.Outcome;
import org.apache.camel.Exchange;

/**
 * Every provider tried in one delivery attempt and what it said, in the order they were tried.
 * A failover chain runs each provider on a copy of the exchange, so — as with {@link ChainWaits} —
 * this holder (exchange property {@value #PROPERTY}) is put on the exchange before dispatch and
 * shared by reference with every copy. {@link AttemptRecorder} fills it from Camel's send events:
 * a try opens when a {@code direct:provider-<id>} is called, takes the provider's answer when the
 * provider's own call (SMTP, HTTP) returns inside it, and closes when the provider route ends. The
 * outcome (delivery/DeliveryOutcomes) writes the tries with the message's new state, in one
 * transaction: nothing is written per try.
 */
public final class ChainAttempts {

    public static final String PROPERTY = "relayChainAttempts";

    /** How much of an HTTP answer's body, or of a reply, is kept per try. */
    public static final int KEPT = 1024;

    private static final Pattern SMTP_CODE = Pattern.compile("^(\\d{3})(?:[ -](\\d\\.\\d{1,3}\\.\\d{1,3}))?");

    /** A try under way: when it started, and the provider's answer once its call returned. */
    private static final class Open {
        final Instant startedAt;
        String code;
        String reply;
        boolean notTried;

        Open(Instant startedAt) {
            this.startedAt = startedAt;
        }
    }

    private final List<DeliveryAttempt> tries = new ArrayList<>();
    private final Map<String, Open> open = new HashMap<>();

    /** The attempt's holder, or null outside a delivery (a provider test, a route test). */
    public static ChainAttempts of(Exchange exchange) {
        return exchange.getProperty(PROPERTY, ChainAttempts.class);
    }

    /** A provider route was called. */
    public synchronized void begin(String providerId, Instant now) {
        open.put(providerId, new Open(now));
    }

    /**
     * The provider's own call returned inside its route: what it answered. Ignored once its try is
     * closed (a call that ran past the attempt deadline answers after its route gave up).
     */
    public synchronized void answered(String providerId, String code, String reply) {
        Open attempt = open.get(providerId);
        if (attempt != null) {
            attempt.code = code;
            attempt.reply = clip(reply);
        }
    }

    /**
     * The provider's open breaker refused the call (provider/ProviderFailures#circuitOpen): whatever
     * the failure is classified as, the provider was not tried.
     */
    public static void notTried(Exchange exchange, String providerId) {
        ChainAttempts attempts = of(exchange);
        if (attempts != null) {
            synchronized (attempts) {
                Open attempt = attempts.open.get(providerId);
                if (attempt != null) {
                    attempt.notTried = true;
                }
            }
        }
    }

    /**
     * The provider route ended. Its answer, when its call gave one, is what is kept; otherwise
     * {@code code} and {@code reply} (the relay's own words: a timeout, a refused connection, why
     * it was not tried).
     */
    public synchronized void end(String providerId, Outcome outcome, String code, String reply, Duration taken,
                                 Instant now) {
        Open attempt = open.remove(providerId);
        if (attempt != null && attempt.notTried) {
            outcome = Outcome.NOT_TRIED;
            code = null;
        }
        Instant startedAt = attempt != null ? attempt.startedAt : now.minus(taken);
        boolean answered = attempt != null && attempt.reply != null && outcome != Outcome.NOT_TRIED;
        tries.add(new DeliveryAttempt(providerId, outcome, answered && attempt.code != null ? attempt.code : code,
                answered ? attempt.reply : clip(reply), (int) Math.min(Integer.MAX_VALUE, taken.toMillis()),
                startedAt));
    }

    /** Adds a try made outside any provider route (none matched: {@code providerId} null). */
    public synchronized void add(DeliveryAttempt attempt) {
        tries.add(attempt);
    }

    /** The tries closed so far, in order. */
    public synchronized List<DeliveryAttempt> tries() {
        return List.copyOf(tries);
    }

    /**
     * The code of an SMTP reply: its reply code and, when it has one, its enhanced status code
     * (RFC 3463), "451 4.7.1"; null when the text does not start with a reply code.
     */
    public static String smtpCode(String reply) {
        if (reply == null) {
            return null;
        }
        Matcher matcher = SMTP_CODE.matcher(reply.strip());
        if (!matcher.find()) {
            return null;
        }
        return matcher.group(2) == null ? matcher.group(1) : matcher.group(1) + " " + matcher.group(2);
    }

    static String clip(String text) {
        if (text == null) {
            return null;
        }
        String stripped = text.strip();
        return stripped.length() <= KEPT ? stripped : stripped.substring(0, KEPT) + "…";
    }
}
