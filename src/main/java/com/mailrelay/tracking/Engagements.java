package com.mailrelay.tracking;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.EventType;
import com.mailrelay.store.EventWriter;
import com.mailrelay.store.Suppressions;
import com.mailrelay.tracking.TrackingTokens.Claim;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records what recipients do with a message — opens, clicks, unsubscribes — as events in the
 * outbox (so they reach the webhook and the Kafka stream), each in one transaction.
 * <p>
 * A link cannot be used to flood the outbox: the first open and the first click of each link
 * are always recorded, and requests for the same link within relay.tracking.repeat-window of the
 * last event recorded for it only count up that event's {@code repeats} (and the
 * {@code relay.tracking.repeats} metric). A link's token expires (relay.tracking.token-lifetime);
 * a token from before tokens carried an expiry works that long after its message was accepted.
 * Nothing here logs a token or an address.
 */
@Component
public class Engagements {

    private static final Logger log = LoggerFactory.getLogger(Engagements.class);
    private static final int MAX_USER_AGENT = 512;

    /** The client that followed a link, as the request shows it. */
    public record Client(String ip, String userAgent) {
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final EventWriter events;
    private final Suppressions suppressions;
    private final Clock clock;
    private final Duration lifetime;
    private final Duration repeatWindow;
    private final MeterRegistry meters;

    public Engagements(JdbcTemplate jdbc, TransactionTemplate transaction, EventWriter events,
                       Suppressions suppressions, Clock clock, RelayProperties properties, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.events = events;
        this.suppressions = suppressions;
        this.clock = clock;
        this.lifetime = properties.tracking().tokenLifetime();
        this.repeatWindow = properties.tracking().repeatWindow();
        this.meters = meters;
    }

    /**
     * The workspace of the claim's message, when the link still works.
     *
     * @throws LinkNotFoundException the token names no stored message
     * @throws LinkExpiredException  the token's expiry (or, for a token without one, its message's
     *                               accept time plus the token lifetime) has passed
     */
    public String workspace(Claim claim) {
        List<Map<String, Object>> found = jdbc.queryForList("select workspace_id, queued_at from messages where id = ?",
                claim.messageId());
        if (found.isEmpty()) {
            throw new LinkNotFoundException("no message " + claim.messageId());
        }
        Instant expires = claim.expires() != null ? claim.expires()
                : instant(found.get(0).get("queued_at")).plus(lifetime);
        if (!clock.instant().isBefore(expires)) {
            throw new LinkExpiredException("the " + claim.kind() + " link of message " + claim.messageId()
                    + " expired at " + expires);
        }
        return (String) found.get(0).get("workspace_id");
    }

    /**
     * An open or a click: a new event if none was recorded for this link within the repeat window,
     * else one more repeat on the last one.
     */
    public void record(Claim claim, String workspace, EventType type, Client client) {
        String key = key(claim);
        Instant now = clock.instant();
        boolean repeat = Boolean.TRUE.equals(transaction.execute(tx -> {
            // The message row's lock makes concurrent requests for one message take turns, so that
            // two at once cannot both find no recent event and both write one.
            jdbc.queryForList("select id from messages where id = ? for update", claim.messageId());
            List<Long> recent = jdbc.queryForList("""
                    select id from events
                     where message_id = ? and engagement_key = ? and created_at > ?
                     order by id desc limit 1""", Long.class, claim.messageId(), key,
                    Timestamp.from(now.minus(repeatWindow)));
            if (!recent.isEmpty()) {
                jdbc.update("update events set repeats = repeats + 1 where id = ?", recent.get(0));
                return true;
            }
            events.writeEngagement(claim.messageId(), workspace, type, claim.recipient(), client.ip(),
                    userAgent(client), claim.url(), key, Timestamp.from(now));
            return false;
        }));
        if (repeat) {
            Counter.builder("relay.tracking.repeats").description("opens and clicks counted on an earlier event")
                    .tag("type", type.id()).register(meters).increment();
        }
        log.debug("{} of message {}{}", type.id(), claim.messageId(), repeat ? " (a repeat)" : "");
    }

    /**
     * The recipient unsubscribes: UNSUBSCRIBED on the workspace's list and an {@code unsub} event,
     * both only the first time, so repeated requests change nothing.
     */
    public void unsubscribe(Claim claim, String workspace, Client client) {
        transaction.executeWithoutResult(tx -> {
            if (suppressions.unsubscribe(workspace, claim.recipient(), "unsubscribed from message " + claim.messageId())) {
                events.writeEngagement(claim.messageId(), workspace, EventType.UNSUB, claim.recipient(), client.ip(),
                        userAgent(client), null, null, Timestamp.from(clock.instant()));
                log.info("a recipient of message {} unsubscribed from workspace {}", claim.messageId(), workspace);
            }
        });
    }

    /** Names the link (its kind, message, recipient and URL) without holding its token. */
    static String key(Claim claim) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            String link = claim.kind() + "\n" + claim.messageId() + "\n" + claim.recipient() + "\n"
                    + (claim.url() == null ? "" : claim.url());
            return HexFormat.of().formatHex(digest.digest(link.getBytes(StandardCharsets.UTF_8)), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    private static Instant instant(Object value) {
        if (value instanceof Timestamp timestamp) {
            return timestamp.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime dateTime) {
            return dateTime.toInstant();
        }
        return (Instant) value;
    }

    private static String userAgent(Client client) {
        String agent = client.userAgent();
        return agent == null || agent.length() <= MAX_USER_AGENT ? agent : agent.substring(0, MAX_USER_AGENT);
    }
}
