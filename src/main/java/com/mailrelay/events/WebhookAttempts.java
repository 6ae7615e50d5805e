package com.mailrelay.events;

import java.net.URI;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;

import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.support.MessageHelper;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The webhook delivery log ({@code webhook_attempts}): one row per POST of a batch, with the
 * receiver's status (none when nothing answered), the latency, the start of its answer or the
 * error, and the URL without its query string (which may carry a token). The route marks the POST
 * ({@link #start}) and measures its answer ({@link #delivered}, {@link #failed}); {@link WebhookOutbox}
 * writes the row in the transaction that records the batch's outcome, so a POST costs no commit of
 * its own.
 */
@Component("webhookAttempts")
public class WebhookAttempts {

    /** How much of the receiver's answer is kept. */
    static final int KEPT = 1024;

    private static final String STARTED = "relayWebhookStarted";
    private static final String URL = "relayWebhookUrl";

    /** Exchange property: the {@link Attempt} the route measured, handed to the outcome step. */
    public static final String ATTEMPT = "relayWebhookAttempt";

    /** One POST: what answered, how fast. */
    public record Attempt(String url, Integer statusCode, int latencyMs, String response, Instant at) {
    }

    private final Clock clock;

    public WebhookAttempts(Clock clock) {
        this.clock = clock;
    }

    /** The POST is about to go out (its URL is the request's {@link Exchange#HTTP_URI}). */
    public void start(Exchange exchange) {
        exchange.setProperty(STARTED, System.nanoTime());
        exchange.setProperty(URL, withoutQuery(exchange.getMessage().getHeader(Exchange.HTTP_URI, String.class)));
    }

    /** The receiver took the batch: its status and the start of its answer. */
    public Attempt delivered(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        return attempt(exchange, status, MessageHelper.extractBodyAsString(exchange.getMessage()));
    }

    /**
     * The POST failed: the receiver's status and answer when it gave one, else the error (refused,
     * timed out); null when no POST was made (the request could not even be built).
     */
    public Attempt failed(Exchange exchange, Exception error) {
        if (exchange.getProperty(STARTED) == null) {
            return null;
        }
        if (error instanceof HttpOperationFailedException http) {
            return attempt(exchange, http.getStatusCode(), http.getResponseBody());
        }
        return attempt(exchange, null, WebhookOutbox.reason(error));
    }

    /** Writes the row, in the caller's transaction (WebhookOutbox's, with the batch's outcome). */
    static void write(JdbcTemplate jdbc, WebhookOutbox.Batch batch, Attempt attempt, String outcome) {
        if (attempt == null) {
            return;
        }
        jdbc.update("""
                insert into webhook_attempts (workspace_id, url, events, first_event_id, last_event_id, status_code,
                                              latency_ms, response, outcome, attempted_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", batch.workspace(), cut(attempt.url(), 2048),
                batch.ids().size(), batch.ids().isEmpty() ? null : batch.ids().get(0),
                batch.ids().isEmpty() ? null : batch.ids().get(batch.ids().size() - 1), attempt.statusCode(),
                attempt.latencyMs(), cut(attempt.response(), 2000), outcome, Timestamp.from(attempt.at()));
    }

    private Attempt attempt(Exchange exchange, Integer status, String response) {
        Long started = exchange.getProperty(STARTED, Long.class);
        long millis = started == null ? 0 : (System.nanoTime() - started) / 1_000_000;
        String url = exchange.getProperty(URL, String.class);
        return new Attempt(url == null ? "" : url, status, (int) Math.min(Integer.MAX_VALUE, millis),
                start(response), clock.instant());
    }

    private static String start(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String stripped = text.strip();
        return stripped.length() <= KEPT ? stripped : stripped.substring(0, KEPT) + "…";
    }

    /** The URL without its query, fragment and user info: any of them may carry a secret. */
    static String withoutQuery(String url) {
        if (url == null) {
            return null;
        }
        try {
            URI uri = URI.create(url);
            return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null).toString();
        } catch (IllegalArgumentException | java.net.URISyntaxException e) {
            int end = url.length();
            for (char c : new char[] {'?', '#'}) {
                int at = url.indexOf(c);
                if (at >= 0 && at < end) {
                    end = at;
                }
            }
            return url.substring(0, end);
        }
    }

    private static String cut(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
