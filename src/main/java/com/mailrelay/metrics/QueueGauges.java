package com.mailrelay.metrics;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import com.mailrelay.events.WebhookOutbox;
import com.mailrelay.message.EmailType;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The queue's gauges, read from the database on a schedule (the {@code metrics-refresh} route) and
 * kept in memory, so that a scrape — of any number of series, by any number of scrapers — runs no
 * query:
 * <ul>
 * <li>{@code relay_queue_messages{status, type}}: messages waiting (QUEUED, DEFERRED) or in a
 *     worker's hands (SENDING), from one grouped query over the rows that still need work — the
 *     {@code messages_due} index covers exactly those ({@code next_attempt_at is not null}), so
 *     the query does not grow with the sent history. Every status × type pair is published, 0
 *     when empty, so a series never disappears while its alert watches it;</li>
 * <li>{@code relay_queue_oldest_due_seconds}: how long the longest-waiting due message has been
 *     due (0 when nothing is due): the first row of the same index;</li>
 * <li>{@code relay_webhook_lag_seconds{workspace}}: the age of the oldest event not yet taken by
 *     the workspace's webhook (0 when none waits), for each workspace with a webhook — one index
 *     lookup each ({@code events_webhook_queue}); events of workspaces without one wait by design
 *     and are not lag.</li>
 * </ul>
 * When the database does not answer, the last values stay and the failure is logged once per
 * outage ({@code relay_metrics_refresh_failures_total} counts each refresh that failed).
 */
@Component("queueGauges")
public class QueueGauges {

    private static final Logger log = LoggerFactory.getLogger(QueueGauges.class);

    /** The statuses of a message that still needs work (next_attempt_at not null). */
    static final List<String> WAITING = List.of("QUEUED", "DEFERRED", "SENDING");

    private final JdbcTemplate jdbc;
    private final WebhookOutbox webhooks;
    private final Clock clock;
    private final MeterRegistry meters;
    private final MultiGauge depth;
    private final MultiGauge webhookLag;
    private final AtomicReference<Double> oldestDue = new AtomicReference<>(0.0);
    private volatile boolean failing;

    public QueueGauges(JdbcTemplate jdbc, WebhookOutbox webhooks, Clock clock, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.webhooks = webhooks;
        this.clock = clock;
        this.meters = meters;
        this.depth = MultiGauge.builder("relay.queue.messages")
                .description("messages waiting for delivery (QUEUED, DEFERRED) or being delivered (SENDING)")
                .register(meters);
        this.webhookLag = MultiGauge.builder("relay.webhook.lag").baseUnit("seconds")
                .description("age of the oldest event a workspace's webhook has not taken yet")
                .register(meters);
        Gauge.builder("relay.queue.oldest.due", oldestDue, AtomicReference::get).baseUnit("seconds")
                .description("how long the message due longest has been waiting since it became due")
                .register(meters);
    }

    /** Reads the queue's numbers once; called by the metrics-refresh route. */
    public void refresh() {
        try {
            Instant now = clock.instant();
            refreshDepth();
            refreshOldestDue(now);
            refreshWebhookLag(now);
            if (failing) {
                log.info("queue metrics read again");
                failing = false;
            }
        } catch (DataAccessException e) {
            meters.counter("relay.metrics.refresh.failures").increment();
            if (!failing) {
                log.warn("queue metrics not read (the last values stay until the database answers): {}", e.toString());
                failing = true;
            }
        }
    }

    private void refreshDepth() {
        Map<String, Long> counts = new HashMap<>();
        jdbc.query("""
                select status, email_type, count(*) as n from messages
                 where next_attempt_at is not null group by status, email_type""",
                row -> {
                    counts.put(row.getString("status") + "/" + row.getString("email_type"), row.getLong("n"));
                });
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (EmailType type : EmailType.values()) {
            types.add(type.id());
        }
        counts.keySet().stream().map(key -> key.substring(key.indexOf('/') + 1))
                .filter(type -> !types.contains(type)).distinct().forEach(types::add);
        for (String status : WAITING) {
            for (String type : types) {
                long n = counts.getOrDefault(status + "/" + type, 0L);
                rows.add(MultiGauge.Row.of(Tags.of("status", status.toLowerCase(), "type", type), n));
            }
        }
        depth.register(rows, true);
    }

    private void refreshOldestDue(Instant now) {
        // The first due row of the messages_due index; SENDING rows are due only when their lease ran out.
        Timestamp oldest = jdbc.queryForObject(
                "select min(next_attempt_at) from messages where next_attempt_at <= ?", Timestamp.class,
                Timestamp.from(now));
        oldestDue.set(oldest == null ? 0.0 : Math.max(0, Duration.between(oldest.toInstant(), now).toMillis() / 1000.0));
    }

    private void refreshWebhookLag(Instant now) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (String workspace : webhooks.workspaces()) {
            List<Timestamp> oldest = jdbc.queryForList("""
                    select created_at from events
                     where id = (select min(id) from events where workspace_id = ? and delivery_state = 'PENDING')""",
                    Timestamp.class, workspace);
            double lag = oldest.isEmpty() || oldest.get(0) == null ? 0.0
                    : Math.max(0, Duration.between(oldest.get(0).toInstant(), now).toMillis() / 1000.0);
            rows.add(MultiGauge.Row.of(Tags.of("workspace", workspace), lag));
        }
        webhookLag.register(rows, true);
    }
}
