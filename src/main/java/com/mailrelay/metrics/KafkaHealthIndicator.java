package com.mailrelay.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.mailrelay.config.RelayProperties;
import jakarta.annotation.PreDestroy;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code kafka} (part of readiness): when the relay uses Kafka — the queue
 * ({@code relay.queue: kafka}: an accept is a Kafka transaction, so without a broker nothing can
 * be accepted) or the event stream ({@code relay.events.kafka.enabled}) — UP while each cluster
 * names its nodes within {@value #TIMEOUT_MILLIS} ms. UP with {@code used: false} otherwise (the
 * component always exists, so that the readiness group can name it).
 * <p>
 * One admin client per cluster, kept open; a result is reused for {@value #CACHE_MILLIS} ms, so
 * that probes of several kinds (kubelet, load balancer) cost one metadata request between them.
 */
@Component("kafkaHealthIndicator")
public class KafkaHealthIndicator implements HealthIndicator {

    static final int TIMEOUT_MILLIS = 2000;
    static final long CACHE_MILLIS = 2000;

    /** Which use of Kafka each cluster serves: "queue" and/or "events", by bootstrap servers. */
    private final Map<String, String> clusters = new LinkedHashMap<>();
    private final Map<String, Admin> admins = new LinkedHashMap<>();
    private Health last;
    private long lastAt;

    public KafkaHealthIndicator(RelayProperties properties) {
        if (properties.queue() == RelayProperties.QueueMode.KAFKA && properties.queueKafka().brokers() != null
                && !properties.queueKafka().brokers().isBlank()) {
            clusters.merge(properties.queueKafka().brokers(), "queue", (a, b) -> a + "," + b);
        }
        RelayProperties.EventsKafka events = properties.events().kafka();
        if (events.enabled() && events.brokers() != null && !events.brokers().isBlank()) {
            clusters.merge(events.brokers(), "events", (a, b) -> a + "," + b);
        }
    }

    @Override
    public synchronized Health health() {
        if (clusters.isEmpty()) {
            return Health.up().withDetail("used", false).build();
        }
        long now = System.currentTimeMillis();
        if (last != null && now - lastAt < CACHE_MILLIS) {
            return last;
        }
        boolean up = true;
        Map<String, Object> details = new LinkedHashMap<>();
        for (Map.Entry<String, String> cluster : clusters.entrySet()) {
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("brokers", cluster.getKey());
            try {
                int nodes = admin(cluster.getKey()).describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_MILLIS))
                        .nodes().get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).size();
                detail.put("nodes", nodes);
                up &= nodes > 0;
            } catch (ExecutionException | TimeoutException e) {
                detail.put("error", e instanceof TimeoutException ? "no answer within " + TIMEOUT_MILLIS + " ms"
                        : String.valueOf(e.getCause()));
                up = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Health.unknown().build();
            }
            details.put(cluster.getValue(), detail);
        }
        last = (up ? Health.up() : Health.down()).withDetails(details).build();
        lastAt = now;
        return last;
    }

    private Admin admin(String brokers) {
        return admins.computeIfAbsent(brokers, servers -> Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MILLIS,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MILLIS,
                // Reconnect quickly once a broker is back, so that readiness follows it.
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000)));
    }

    @PreDestroy
    synchronized void close() {
        admins.values().forEach(admin -> admin.close(java.time.Duration.ofSeconds(1)));
        admins.clear();
    }
}
