package com.mailrelay.events;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.RelayProperties;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Delivers the event outbox to each workspace's webhook, in order: a workspace's oldest pending
 * events go out as one Mandrill batch, and nothing later is sent until that batch is taken. The
 * batch's rows stay locked while it is posted, so one instance at a time delivers a workspace's
 * events; a failed batch waits with backoff and, past relay.webhooks.max-age, is marked FAILED.
 */
@Component("webhookOutbox")
public class WebhookOutbox {

    private static final Logger log = LoggerFactory.getLogger(WebhookOutbox.class);

    private final JdbcTemplate jdbc;
    private final MandrillEvents mandrill;
    private final TransactionTemplate transaction;
    private final ProducerTemplate producer;
    private final RelayProperties properties;
    private final Clock clock;

    public WebhookOutbox(JdbcTemplate jdbc, TransactionTemplate transaction, ProducerTemplate producer,
                         MandrillEvents mandrill, RelayProperties properties, Clock clock) {
        this.jdbc = jdbc;
        this.mandrill = mandrill;
        this.transaction = transaction;
        this.producer = producer;
        this.properties = properties;
        this.clock = clock;
    }

    /** One pass over the workspaces that have a webhook: at most one batch each. */
    public void deliverDue() {
        properties.workspaces().forEach((workspace, settings) -> {
            if (settings.webhook().configured()) {
                try {
                    transaction.executeWithoutResult(tx -> deliverBatch(workspace, settings.webhook()));
                } catch (RuntimeException e) {
                    log.warn("webhook delivery for workspace {} could not run: {}", workspace, e.getMessage());
                }
            }
        });
    }

    private void deliverBatch(String workspace, RelayProperties.Webhook webhook) {
        Instant now = clock.instant();
        // The head of the workspace's queue: whoever holds it delivers; a head waiting out its
        // backoff holds back everything after it, which keeps events in order.
        List<Map<String, Object>> head = jdbc.queryForList("""
                select id, next_attempt_at from events
                 where id = (select min(id) from events where workspace_id = ? and delivery_state = 'PENDING')
                   for update skip locked""", workspace);
        if (head.isEmpty()) {
            return;
        }
        Instant due = MandrillEvents.instant(head.get(0).get("next_attempt_at"));
        if (due != null && due.isAfter(now)) {
            return;
        }
        long headId = ((Number) head.get(0).get("id")).longValue();
        List<Long> ids = jdbc.queryForList("""
                select id from events
                 where workspace_id = ? and delivery_state = 'PENDING'
                 order by id limit ? for update skip locked""", Long.class, workspace, properties.webhooks().batchSize());
        if (ids.isEmpty() || ids.get(0) != headId) {
            return;                              // another instance is delivering this workspace's events
        }
        List<Map<String, Object>> rows = mandrill.rows(ids);
        String events = mandrill.json(rows);
        try {
            post(webhook, events);
            markDelivered(ids, now);
            log.info("webhook: {} event(s) of workspace {} delivered", ids.size(), workspace);
        } catch (RuntimeException e) {
            markFailedAttempt(ids, rows, e, now);
        }
    }

    private void post(RelayProperties.Webhook webhook, String events) {
        String signature = MandrillSignature.sign(webhook.key() == null ? "" : webhook.key(), webhook.url(),
                Map.of("mandrill_events", events));
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("CamelHttpUri", webhook.url());
        headers.put("X-Mandrill-Signature", signature);
        producer.requestBodyAndHeaders("direct:webhook-post",
                "mandrill_events=" + URLEncoder.encode(events, StandardCharsets.UTF_8), headers);
    }

    private void markDelivered(List<Long> ids, Instant now) {
        List<Object[]> updates = ids.stream().map(id -> new Object[] {Timestamp.from(now), id}).toList();
        jdbc.batchUpdate("""
                update events set delivery_state = 'DELIVERED', delivered_at = ?, attempts = attempts + 1,
                                  next_attempt_at = null, last_error = null
                 where id = ?""", updates);
    }

    private void markFailedAttempt(List<Long> ids, List<Map<String, Object>> rows, RuntimeException error, Instant now) {
        int attempts = ((Number) rows.get(0).get("attempts")).intValue() + 1;
        Instant oldest = MandrillEvents.instant(rows.get(0).get("created_at"));
        String reason = String.valueOf(error.getCause() != null ? error.getCause().getMessage() : error.getMessage());
        boolean givenUp = Duration.between(oldest, now).compareTo(properties.webhooks().maxAge()) >= 0;
        Instant retryAt = now.plus(backoff(attempts));
        List<Object[]> updates = ids.stream().map(id -> new Object[] {givenUp ? "FAILED" : "PENDING",
                givenUp ? null : Timestamp.from(retryAt), reason, id}).toList();
        jdbc.batchUpdate("""
                update events set delivery_state = ?, next_attempt_at = ?, attempts = attempts + 1, last_error = ?
                 where id = ?""", updates);
        if (givenUp) {
            log.error("webhook: gave up on {} event(s) after {} attempts: {}", ids.size(), attempts, reason);
        } else {
            log.warn("webhook: {} event(s) not delivered (attempt {}), retry at {}: {}", ids.size(), attempts,
                    retryAt, reason);
        }
    }

    private Duration backoff(int attempts) {
        long millis = properties.webhooks().initialBackoff().toMillis() * (1L << Math.min(attempts - 1, 20));
        return Duration.ofMillis(Math.min(millis, properties.webhooks().maxBackoff().toMillis()));
    }

    /** Events whose delivery was given up, for the API. */
    public List<Map<String, Object>> failed(String workspace) {
        return new ArrayList<>(jdbc.queryForList("""
                select id, message_id, type, recipient, created_at, attempts, last_error from events
                 where workspace_id = ? and delivery_state = 'FAILED' order by id""", workspace));
    }
}
