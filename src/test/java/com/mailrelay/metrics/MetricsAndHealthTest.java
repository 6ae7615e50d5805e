package com.mailrelay.metrics;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mailrelay.support.DatabaseOutage;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.logging.logback.StructuredLogEncoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator's view of a run: the Prometheus series of workspace ops-metrics (whose chain fails
 * over from metrics-down, which hangs up and whose breaker opens, to metrics-scripted, which
 * answers by recipient: test-routes/ops-metrics.camel.yaml), the readiness and liveness groups
 * through a database outage, and the message id and workspace on the log lines of a delivery.
 */
class MetricsAndHealthTest extends RelayTestSupport {

    private static final String WORKSPACE = "ops-metrics";
    private static final String ADMIN_KEY = "admin-key";

    @Test
    void prometheusHasTheSeriesOfAMixedRunWithTheirLabels() {
        // Two sent over REST: metrics-down fails both (its breaker opens after two calls), each fails over.
        String sent1 = submit(WORKSPACE, message("app@ops-metrics.test", "reader1@customer.test", "metrics sent 1"));
        String sent2 = submit(WORKSPACE, message("app@ops-metrics.test", "reader2@customer.test", "metrics sent 2"));
        String deferred = submit(WORKSPACE, message("app@ops-metrics.test", "busy-metrics@customer.test", "metrics busy"));
        String failed = submit(WORKSPACE, message("app@ops-metrics.test", "reject-metrics@customer.test", "metrics reject"));
        // Refused: a REST request without recipients, and one over SMTP after a good one.
        HttpResponse<String> refused = post(key(WORKSPACE),
                Map.of("from", "app@ops-metrics.test", "subject", "no one", "text", "x"), Map.of());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        // Refused by the accept path itself: an Idempotency-Key reused for another message.
        Map<String, String> idempotency = Map.of("Idempotency-Key", "metrics-" + UUID.randomUUID());
        assertThat(post(key(WORKSPACE), message("app@ops-metrics.test", "reader5@customer.test", "metrics key"),
                idempotency).statusCode()).isEqualTo(202);
        HttpResponse<String> reused = post(key(WORKSPACE),
                message("app@ops-metrics.test", "reader5@customer.test", "metrics other"), idempotency);
        assertThat(reused.statusCode()).as(reused.body()).isEqualTo(422);
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port())) {
            assertThat(smtp.login(WORKSPACE, "limited-password")).startsWith("235");
            assertThat(smtp.submit("app@ops-metrics.test", "reader3@customer.test",
                    "From: app@ops-metrics.test\r\nSubject: metrics smtp\r\n\r\nbody\r\n")).startsWith("250");
        }
        awaitStatus(sent1, "SENT");
        awaitStatus(sent2, "SENT");
        awaitStatus(failed, "FAILED");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> (Integer) row(deferred).get("attempts") >= 1 && !"QUEUED".equals(status(deferred)));

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            String text = prometheus();
            assertThat(value(text, "relay_accepted_total", Map.of("workspace", WORKSPACE, "type", "transactional")))
                    .isGreaterThanOrEqualTo(5);
            assertThat(value(text, "relay_deliveries_total", Map.of("workspace", WORKSPACE, "type", "transactional",
                    "provider", "metrics-scripted", "outcome", "sent"))).isGreaterThanOrEqualTo(3);
            assertThat(value(text, "relay_deliveries_total", Map.of("workspace", WORKSPACE,
                    "provider", "metrics-scripted", "outcome", "deferred"))).isGreaterThanOrEqualTo(1);
            assertThat(value(text, "relay_deliveries_total", Map.of("workspace", WORKSPACE,
                    "provider", "metrics-scripted", "outcome", "failed"))).isGreaterThanOrEqualTo(1);
            assertThat(value(text, "relay_rejected_total", Map.of("workspace", WORKSPACE, "type", "unknown",
                    "reason", "invalid_request"))).isEqualTo(1);
            assertThat(value(text, "relay_rejected_total", Map.of("workspace", WORKSPACE, "type", "transactional",
                    "reason", "idempotency_key_reused"))).isEqualTo(1);
            // Failovers: metrics-down failed (hung up, then its open breaker refused), metrics-scripted was tried.
            assertThat(value(text, "relay_provider_failovers_total", Map.of("from", "metrics-down", "to", "metrics-scripted")))
                    .isGreaterThanOrEqualTo(4);
            assertThat(value(text, "relay_provider_breaker_transitions_total",
                    Map.of("provider", "metrics-down", "from", "closed", "to", "open"))).isGreaterThanOrEqualTo(1);
            assertThat(value(text, "relay_provider_breaker_state", Map.of("provider", "metrics-down", "state", "open")))
                    .isEqualTo(1);
            assertThat(value(text, "relay_provider_breaker_state", Map.of("provider", "metrics-down", "state", "closed")))
                    .isEqualTo(0);
            assertThat(value(text, "relay_provider_breaker_state", Map.of("provider", "metrics-scripted", "state", "closed")))
                    .isEqualTo(1);
            // Histograms: SLO buckets of the accept (REST and SMTP) and of accept → delivered.
            assertThat(value(text, "relay_accept_latency_seconds_count", Map.of("ingress", "rest"))).isGreaterThanOrEqualTo(4);
            assertThat(value(text, "relay_accept_latency_seconds_count", Map.of("ingress", "smtp"))).isGreaterThanOrEqualTo(1);
            assertThat(value(text, "relay_accept_latency_seconds_bucket", Map.of("ingress", "rest", "le", "0.25"))).isNotNull();
            assertThat(value(text, "relay_delivery_latency_seconds_count",
                    Map.of("type", "transactional", "provider", "metrics-scripted"))).isGreaterThanOrEqualTo(3);
            assertThat(value(text, "relay_delivery_latency_seconds_bucket",
                    Map.of("type", "transactional", "provider", "metrics-scripted", "le", "30.0"))).isNotNull();
            // Gauges of the refresh: queue depth by status and type, the oldest due, webhook lag.
            for (String status : List.of("queued", "deferred", "sending")) {
                for (String type : List.of("transactional", "marketing", "system", "notification")) {
                    assertThat(value(text, "relay_queue_messages", Map.of("status", status, "type", type)))
                            .as(status + "/" + type).isNotNull();
                }
            }
            assertThat(value(text, "relay_queue_oldest_due_seconds", Map.of())).isNotNull();
            assertThat(value(text, "relay_webhook_lag_seconds", Map.of("workspace", "hooked"))).isNotNull();
            assertThat(value(text, "relay_webhook_lag_seconds", Map.of("workspace", WORKSPACE))).isNull();
            // Bounded labels: no message id, no address.
            assertThat(text).doesNotContain(sent1, deferred, failed, "reader1@customer.test", "reject-metrics@");
        });
    }

    @Test
    void queueDepthCountsTheRowsThatStillNeedWork() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            long rows = jdbc.queryForObject("select count(*) from messages where status = 'DEFERRED'"
                    + " and email_type = 'transactional'", Long.class);
            // Read at the same moment: the gauge is at most one refresh (1 s in tests) older than the rows.
            Double gauge = value(prometheus(), "relay_queue_messages", Map.of("status", "deferred", "type", "transactional"));
            long after = jdbc.queryForObject("select count(*) from messages where status = 'DEFERRED'"
                    + " and email_type = 'transactional'", Long.class);
            assertThat(rows).isEqualTo(after);
            assertThat(gauge).isEqualTo((double) rows);
        });
    }

    @Test
    void readinessIsDownWhileTheDatabaseIsStoppedAndLivenessStaysUp() {
        assertThat(health("/actuator/health/readiness", null).statusCode()).isEqualTo(200);
        Map<String, Object> ready = read(health("/actuator/health/readiness", ADMIN_KEY).body());
        assertThat(ready).containsEntry("status", "UP");
        assertThat(components(ready)).containsOnlyKeys("readinessState", "db", "routes", "smtp", "kafka");
        assertThat(components(liveness())).containsOnlyKeys("livenessState", "camelLivenessState");

        DatabaseOutage.begin();
        try {
            HttpResponse<String> down = health("/actuator/health/readiness", ADMIN_KEY);
            assertThat(down.statusCode()).isEqualTo(503);
            Map<String, Object> body = read(down.body());
            assertThat(body).containsEntry("status", "DOWN");
            assertThat(component(body, "db")).containsEntry("status", "DOWN");
            assertThat(component(body, "smtp")).containsEntry("status", "UP");
            // The process can still work: not restarted for an outage a restart does not cure.
            HttpResponse<String> live = health("/actuator/health/liveness", null);
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(read(live.body())).containsEntry("status", "UP");
        } finally {
            DatabaseOutage.end();
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(health("/actuator/health/readiness", null).statusCode()).isEqualTo(200));
        assertThat(read(health("/actuator/health/readiness", null).body())).containsEntry("status", "UP");
    }

    @Test
    void aDeliverysAndAnAcceptsLogLinesCarryTheMessageIdAndWorkspace() {
        LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.setContext(logging);
        lines.start();
        Logger delivery = logging.getLogger("com.mailrelay.delivery.DeliveryOutcomes");
        Logger accept = logging.getLogger("com.mailrelay.accept.DatabaseAccept");
        delivery.addAppender(lines);
        accept.addAppender(lines);
        try {
            String id = submit(WORKSPACE, message("app@ops-metrics.test", "reader4@customer.test", "metrics logged"));
            awaitStatus(id, "SENT");
            await().atMost(Duration.ofSeconds(5)).until(() -> lines(lines, "sent message " + id).size() == 1);
            ILoggingEvent sent = lines(lines, "sent message " + id).get(0);
            assertThat(sent.getMDCPropertyMap()).containsEntry("message_id", id).containsEntry("workspace", WORKSPACE);
            // The accept's line is written by a group-commit thread, under the submitter's MDC.
            List<ILoggingEvent> accepted = lines(lines, "accepted message " + id);
            assertThat(accepted).hasSize(1);
            assertThat(accepted.get(0).getMDCPropertyMap()).containsEntry("message_id", id)
                    .containsEntry("workspace", WORKSPACE);

            // As a structured line (logging.structured.format.console: ecs), both are fields of their own.
            StructuredLogEncoder ecs = new StructuredLogEncoder();
            ecs.setContext(logging);
            ecs.setFormat("ecs");
            ecs.start();
            Map<String, Object> json = read(new String(ecs.encode(sent), StandardCharsets.UTF_8));
            assertThat(json).containsEntry("message_id", id).containsEntry("workspace", WORKSPACE);
            assertThat(String.valueOf(json.get("message"))).startsWith("sent message " + id);
            ecs.stop();
        } finally {
            delivery.detachAppender(lines);
            accept.detachAppender(lines);
        }
    }

    private static List<ILoggingEvent> lines(ListAppender<ILoggingEvent> appender, String prefix) {
        synchronized (appender) {
            return new ArrayList<>(appender.list).stream()
                    .filter(line -> line.getFormattedMessage().startsWith(prefix)).toList();
        }
    }

    private String prometheus() {
        HttpResponse<String> response = get(ADMIN_KEY, "/actuator/prometheus");
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private Map<String, Object> liveness() {
        return read(health("/actuator/health/liveness", ADMIN_KEY).body());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> components(Map<String, Object> health) {
        return (Map<String, Object>) health.get("components");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> component(Map<String, Object> health, String name) {
        return (Map<String, Object>) components(health).get(name);
    }

    private HttpResponse<String> health(String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return send(request.build());
    }

    /**
     * The value of the one series of {@code name} whose labels include {@code labels} (summed
     * over the others), or null when there is none. The Prometheus text format: name{a="b",...} value.
     */
    static Double value(String text, String name, Map<String, String> labels) {
        Double sum = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            Map<String, String> found = new LinkedHashMap<>();
            int open = line.indexOf('{');
            int close = line.lastIndexOf('}');
            if (open > 0 && close > open) {
                for (String pair : line.substring(open + 1, close).split("\",")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0) {
                        found.put(pair.substring(0, eq), pair.substring(eq + 1).replace("\"", ""));
                    }
                }
            }
            if (found.entrySet().containsAll(labels.entrySet())) {
                double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                sum = sum == null ? value : sum + value;
            }
        }
        return sum;
    }
}
