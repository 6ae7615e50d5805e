package com.mailrelay.events;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The steps of webhook delivery (the routes {@code webhook-offer} and {@code webhook-deliver} run
 * them): whether a workspace is to be handed to a worker, claiming its next batch, and recording
 * how its POST went.
 * <p>
 * No database lock is held while a batch is posted. A claim takes the workspace's lease in
 * {@code webhook_leases} with one conditional update; whoever holds the lease is the only one
 * who posts that workspace's events, so they go out in order, one batch at a time, across
 * instances. The outcome is recorded only while the claim still owns the lease: a worker whose
 * lease ran out (it was slower than relay.webhooks.lease, or its instance died) records nothing,
 * and the next owner posts the batch again with the same event ids — delivery is at least once.
 * A failed batch waits with backoff or, when {@link #hopeless} (past relay.webhooks.max-age, or a
 * single event the receiver refuses as too large), is marked FAILED: the route chooses which.
 * <p>
 * Batches are bounded by count and by bytes: the events' sizes are read first (without their
 * content), only the rows that fit are loaded, and the JSON stops growing at
 * relay.webhooks.batch-bytes. An event larger than that alone is posted alone, unchanged.
 */
@Component("webhookOutbox")
public class WebhookOutbox {

    private static final Logger log = LoggerFactory.getLogger(WebhookOutbox.class);
    /** What an event's JSON takes beyond its stored texts (field names, ids, timestamps, state). */
    private static final int EVENT_OVERHEAD = 300;

    /** One claimed batch: the events posted together, and the lease that lets their outcome be recorded. */
    public record Batch(String workspace, String owner, List<Long> ids, int attempts, Instant oldest, String events) {
    }

    private final JdbcTemplate jdbc;
    private final MandrillEvents mandrill;
    private final TransactionTemplate transaction;
    private final RelayProperties properties;
    private final Workspaces workspaces;
    private final Clock clock;
    /** Workspaces handed to a worker and not yet taken up by it: each waits in the queue at most once. */
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    /**
     * Workspaces whose batch a worker of this instance is posting, until when its lease lasts: an
     * offer for one of them is refused without a query (every delivery's wireTap offers its
     * workspace, and while a batch is out the answer is no), and the worker offers it again itself
     * once the outcome is recorded. The time bounds it should an outcome never be recorded.
     */
    private final Map<String, Instant> posting = new ConcurrentHashMap<>();

    public WebhookOutbox(JdbcTemplate jdbc, TransactionTemplate transaction, MandrillEvents mandrill,
                         RelayProperties properties, Workspaces workspaces, Clock clock) {
        this.jdbc = jdbc;
        this.mandrill = mandrill;
        this.transaction = transaction;
        this.properties = properties;
        this.workspaces = workspaces;
        this.clock = clock;
        RelayProperties.Webhooks webhooks = properties.webhooks();
        if (webhooks.lease().toMillis() <= 2L * webhooks.timeoutMillis()) {
            throw new IllegalStateException("relay.webhooks.lease (" + webhooks.lease() + ") must be longer than"
                    + " a POST may take: twice relay.webhooks.timeout-millis (" + webhooks.timeoutMillis() + " ms)");
        }
        workspaces.all().forEach((workspace, settings) -> {
            if (settings.webhook().configured() && (settings.webhook().key() == null || settings.webhook().key().isBlank())) {
                log.warn("workspace {} has a webhook without a key: its posts carry no X-Mandrill-Signature", workspace);
            }
        });
    }

    /** The workspaces with a webhook: the poll offers each of them. */
    public List<String> workspaces() {
        List<String> withWebhook = new ArrayList<>();
        workspaces.all().forEach((workspace, settings) -> {
            if (settings.webhook().configured()) {
                withWebhook.add(workspace);
            }
        });
        return withWebhook;
    }

    /**
     * Whether the workspace is to be handed to a worker now: it has a webhook, is not already
     * waiting in the queue, its oldest pending event is due and its lease is free. A true answer
     * marks it queued, so the caller must hand it over; it is not offered again until a worker took
     * it up ({@link #claim}). Both the poll and the events-written wake-up ask here, so a workspace
     * waits in the queue at most once whoever offers it.
     */
    public boolean offer(String workspace) {
        RelayProperties.Workspace settings = workspace == null ? null : workspaces.find(workspace).orElse(null);
        if (settings == null || !settings.webhook().configured() || queued.contains(workspace)) {
            return false;
        }
        Instant now = clock.instant();
        Instant postingUntil = posting.get(workspace);
        if (postingUntil != null && postingUntil.isAfter(now)) {
            return false;
        }
        List<Map<String, Object>> head = jdbc.queryForList("""
                select e.next_attempt_at, l.lease_until from events e
                  left join webhook_leases l on l.workspace_id = e.workspace_id
                 where e.id = (select min(id) from events where workspace_id = ? and delivery_state = 'PENDING')""",
                workspace);
        return !head.isEmpty() && !after(head.get(0).get("next_attempt_at"), now)
                && !after(head.get(0).get("lease_until"), now) && queued.add(workspace);
    }

    /**
     * Claims the workspace's next batch: takes its lease, then reads the batch (no transaction, no
     * lock: the lease keeps everyone else off it).
     *
     * @return the batch, or null when the lease is held elsewhere or nothing is due
     */
    public Batch claim(String workspace) {
        queued.remove(workspace);
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        if (settings == null || !settings.webhook().configured()) {
            return null;
        }
        Instant now = clock.instant();
        String owner = UUID.randomUUID().toString();
        if (!acquire(workspace, owner, now)) {
            return null;
        }
        try {
            Batch batch = read(workspace, owner, now);
            if (batch == null) {
                release(workspace, owner);
            } else {
                posting.put(workspace, now.plus(properties.webhooks().lease()));
            }
            return batch;
        } catch (RuntimeException | Error e) {
            release(workspace, owner);
            throw e;
        }
    }

    /** The form body and headers of the batch's POST to the workspace's webhook. */
    public void request(Exchange exchange) {
        Batch batch = exchange.getMessage().getBody(Batch.class);
        RelayProperties.Webhook webhook = workspaces.find(batch.workspace()).orElseThrow().webhook();
        Message message = exchange.getMessage();
        message.removeHeaders("*");
        message.setHeader(Exchange.HTTP_URI, webhook.url());
        if (webhook.key() != null && !webhook.key().isBlank()) {
            message.setHeader("X-Mandrill-Signature", MandrillSignature.sign(webhook.key(), webhook.url(),
                    Map.of("mandrill_events", batch.events())));
        }
        message.setBody("mandrill_events=" + URLEncoder.encode(batch.events(), StandardCharsets.UTF_8));
    }

    /** The receiver took the batch: its events are DELIVERED and the lease is free again; the POST is logged. */
    public void delivered(Batch batch, WebhookAttempts.Attempt attempt) {
        Instant now = clock.instant();
        boolean recorded;
        try {
            recorded = Boolean.TRUE.equals(transaction.execute(tx -> {
                // The POST was made whoever holds the lease now: it is in the delivery log either way.
                WebhookAttempts.write(jdbc, batch, attempt, "DELIVERED");
                if (!release(batch.workspace(), batch.owner())) {
                    return false;
                }
                jdbc.batchUpdate("""
                        update events set delivery_state = 'DELIVERED', delivered_at = ?, attempts = attempts + 1,
                                          next_attempt_at = null, last_error = null
                         where id = ?""", batch.ids().stream().map(id -> new Object[] {Timestamp.from(now), id}).toList());
                return true;
            }));
        } finally {
            posting.remove(batch.workspace());
        }
        if (recorded) {
            log.info("webhook: {} event(s) of workspace {} delivered", batch.ids().size(), batch.workspace());
        } else {
            log.warn("webhook: {} event(s) of workspace {} were posted after the lease ran out; they will be posted"
                    + " again (receivers drop repeats by {})", batch.ids().size(), batch.workspace(), MandrillEvents.EVENT_ID);
        }
    }

    /** The claim itself failed (the database is away, say): there is no batch to record; the poll tries again. */
    public void notRun(Exception error) {
        log.warn("webhook delivery could not run: {}", reason(error));
    }

    /**
     * Whether a failed batch is given up rather than retried: its oldest event is past
     * relay.webhooks.max-age, or it is a single event the receiver refused as too large (413) —
     * it would be refused every time, and would hold the workspace's later events until max-age.
     */
    public boolean hopeless(Batch batch, Exception error) {
        boolean tooLarge = batch.ids().size() == 1 && error instanceof HttpOperationFailedException http
                && http.getStatusCode() == 413;
        return tooLarge || Duration.between(batch.oldest(), clock.instant()).compareTo(properties.webhooks().maxAge()) >= 0;
    }

    /** The batch's events are FAILED (listed by the API) and the lease is free: the events after them go on. */
    public void giveUp(Batch batch, Exception error, WebhookAttempts.Attempt attempt) {
        String reason = reason(error);
        int attempts = batch.attempts() + 1;
        if (record(batch, "FAILED", null, reason, attempt)) {
            log.error("webhook: gave up on {} event(s) of workspace {} after {} attempts: {}", batch.ids().size(),
                    batch.workspace(), attempts, reason);
        }
    }

    /** The batch waits with backoff (later events wait behind it, so order holds) and the lease is free. */
    public void retryLater(Batch batch, Exception error, WebhookAttempts.Attempt attempt) {
        String reason = reason(error);
        int attempts = batch.attempts() + 1;
        Instant retryAt = clock.instant().plus(backoff(attempts));
        if (record(batch, "PENDING", retryAt, reason, attempt)) {
            log.warn("webhook: {} event(s) of workspace {} not delivered (attempt {}), retry at {}: {}",
                    batch.ids().size(), batch.workspace(), attempts, retryAt, reason);
        }
    }

    /**
     * Records a failed attempt while the claim still owns the lease; false (logged) when it was
     * taken over. The POST itself (null when none was made) is logged either way, as RETRY or FAILED.
     */
    private boolean record(Batch batch, String state, Instant retryAt, String reason, WebhookAttempts.Attempt attempt) {
        boolean recorded;
        try {
            recorded = Boolean.TRUE.equals(transaction.execute(tx -> {
                WebhookAttempts.write(jdbc, batch, attempt, "FAILED".equals(state) ? "FAILED" : "RETRY");
                if (!release(batch.workspace(), batch.owner())) {
                    return false;
                }
                jdbc.batchUpdate("""
                        update events set delivery_state = ?, next_attempt_at = ?, attempts = attempts + 1, last_error = ?
                         where id = ?""", batch.ids().stream().map(id -> new Object[] {state,
                        retryAt == null ? null : Timestamp.from(retryAt), reason, id}).toList());
                return true;
            }));
        } finally {
            posting.remove(batch.workspace());
        }
        if (!recorded) {
            log.warn("webhook: {} event(s) of workspace {} failed after the lease ran out: {}", batch.ids().size(),
                    batch.workspace(), reason);
        }
        return recorded;
    }

    /** Takes the workspace's lease if it is free (one statement, committed at once). */
    private boolean acquire(String workspace, String owner, Instant now) {
        Timestamp until = Timestamp.from(now.plus(properties.webhooks().lease()));
        if (jdbc.update("""
                update webhook_leases set owner = ?, lease_until = ?
                 where workspace_id = ? and (lease_until is null or lease_until <= ?)""",
                owner, until, workspace, Timestamp.from(now)) == 1) {
            return true;
        }
        if (!jdbc.queryForList("select 1 from webhook_leases where workspace_id = ?", workspace).isEmpty()) {
            return false;                                  // held by another worker
        }
        try {
            return jdbc.update("insert into webhook_leases (workspace_id, owner, lease_until) values (?, ?, ?)",
                    workspace, owner, until) == 1;
        } catch (DuplicateKeyException e) {
            return false;                                  // another worker created it first, and holds it
        }
    }

    /** Frees the lease if this claim still owns it; false when it was taken over. */
    private boolean release(String workspace, String owner) {
        return jdbc.update("update webhook_leases set owner = null, lease_until = null where workspace_id = ? and owner = ?",
                workspace, owner) == 1;
    }

    private Batch read(String workspace, String owner, Instant now) {
        List<Map<String, Object>> head = jdbc.queryForList("""
                select id, next_attempt_at, attempts, created_at from events
                 where id = (select min(id) from events where workspace_id = ? and delivery_state = 'PENDING')""",
                workspace);
        // A head waiting out its backoff holds back everything after it, which keeps events in order.
        if (head.isEmpty() || after(head.get(0).get("next_attempt_at"), now)) {
            return null;
        }
        long limit = properties.webhooks().batchBytes().toBytes();
        List<Long> fitting = new ArrayList<>();
        long estimate = 0;
        for (Map<String, Object> event : mandrill.pendingSizes(workspace, properties.webhooks().batchSize())) {
            estimate += ((Number) event.get("size")).longValue() + EVENT_OVERHEAD;
            if (!fitting.isEmpty() && estimate > limit) {
                break;
            }
            fitting.add(((Number) event.get("id")).longValue());
        }
        if (fitting.isEmpty() || fitting.get(0) != ((Number) head.get(0).get("id")).longValue()) {
            return null;                                   // the head changed meanwhile: the next poll takes it
        }
        // The JSON, bounded by bytes as it is built (the estimate is close, not exact).
        StringBuilder events = new StringBuilder("[");
        long bytes = 2;
        List<Long> ids = new ArrayList<>();
        for (Map<String, Object> row : mandrill.rows(fitting)) {
            String event = mandrill.write(mandrill.event(row));
            long size = event.getBytes(StandardCharsets.UTF_8).length + (ids.isEmpty() ? 0 : 1);
            if (!ids.isEmpty() && bytes + size > limit) {
                break;
            }
            events.append(ids.isEmpty() ? "" : ",").append(event);
            bytes += size;
            ids.add(((Number) row.get("id")).longValue());
        }
        events.append(']');
        return new Batch(workspace, owner, List.copyOf(ids), ((Number) head.get(0).get("attempts")).intValue(),
                MandrillEvents.instant(head.get(0).get("created_at")), events.toString());
    }

    private static boolean after(Object timestamp, Instant now) {
        Instant at = MandrillEvents.instant(timestamp);
        return at != null && at.isAfter(now);
    }

    static String reason(Exception error) {
        return String.valueOf(error.getCause() != null && error.getCause().getMessage() != null
                ? error.getCause().getMessage() : error.getMessage());
    }

    private Duration backoff(int attempts) {
        long millis = properties.webhooks().initialBackoff().toMillis() * (1L << Math.min(attempts - 1, 20));
        return Duration.ofMillis(Math.min(millis, properties.webhooks().maxBackoff().toMillis()));
    }
}
