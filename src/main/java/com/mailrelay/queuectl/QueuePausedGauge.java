package com.mailrelay.queuectl;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * {@code relay_queue_paused{workspace,email_type}}: 1 while delivery of the pair is paused, 0
 * once it was resumed (a series that disappears could not be told from a scrape that missed it).
 * Read from queue_pauses by the queue-pauses-gauge route every few seconds and after each pause or
 * resume on this instance, so every instance shows a pause made on any of them.
 */
@Component("queuePausedGauge")
public class QueuePausedGauge {

    private final JdbcTemplate jdbc;
    private final MeterRegistry meters;
    private final Map<Pair, AtomicInteger> values = new ConcurrentHashMap<>();

    private record Pair(String workspace, String emailType) {
    }

    public QueuePausedGauge(JdbcTemplate jdbc, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.meters = meters;
    }

    public void refresh() {
        Set<Pair> paused = new HashSet<>(jdbc.query("select workspace_id, email_type from queue_pauses",
                (row, n) -> new Pair(row.getString(1), row.getString(2))));
        for (Pair pair : paused) {
            values.computeIfAbsent(pair, this::register).set(1);
        }
        values.forEach((pair, value) -> {
            if (!paused.contains(pair)) {
                value.set(0);
            }
        });
    }

    private AtomicInteger register(Pair pair) {
        AtomicInteger value = new AtomicInteger();
        Gauge.builder("relay.queue.paused", value, AtomicInteger::get)
                .description("1 while delivery of the workspace x email type is paused ('*': every one)")
                .tags("workspace", pair.workspace(), "email_type", pair.emailType())
                .register(meters);
        return value;
    }
}
