package com.mailrelay.tracking;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

import com.mailrelay.events.EventType;
import com.mailrelay.events.EventWriter;
import com.mailrelay.recipients.Suppressions;
import com.mailrelay.tracking.TrackingTokens.Claim;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records what recipients do with a message — opens, clicks, unsubscribes — as events in the
 * outbox (so they reach the webhook and the Kafka stream), each in one transaction.
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

    public Engagements(JdbcTemplate jdbc, TransactionTemplate transaction, EventWriter events,
                       Suppressions suppressions, Clock clock) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.events = events;
        this.suppressions = suppressions;
        this.clock = clock;
    }

    /**
     * An open or a click (every one, the first and each repeat).
     *
     * @return false when the token names no stored message (nothing recorded)
     */
    public boolean record(Claim claim, EventType type, Client client) {
        return Boolean.TRUE.equals(transaction.execute(tx -> workspaceOf(claim).map(workspace -> {
            events.writeEngagement(claim.messageId(), workspace, type, claim.recipient(), client.ip(),
                    userAgent(client), claim.url(), Timestamp.from(clock.instant()));
            log.debug("{} of message {} by {}", type.id(), claim.messageId(), claim.recipient());
            return true;
        }).orElse(false)));
    }

    /**
     * The recipient unsubscribes: UNSUBSCRIBED on the workspace's list and an {@code unsub} event,
     * both only the first time, so repeated requests change nothing.
     *
     * @return false when the token names no stored message (nothing changed)
     */
    public boolean unsubscribe(Claim claim, Client client) {
        return Boolean.TRUE.equals(transaction.execute(tx -> workspaceOf(claim).map(workspace -> {
            if (suppressions.unsubscribe(workspace, claim.recipient(), "unsubscribed from message " + claim.messageId())) {
                events.writeEngagement(claim.messageId(), workspace, EventType.UNSUB, claim.recipient(), client.ip(),
                        userAgent(client), null, Timestamp.from(clock.instant()));
                log.info("{} unsubscribed from workspace {} (message {})", claim.recipient(), workspace,
                        claim.messageId());
            }
            return true;
        }).orElse(false)));
    }

    private Optional<String> workspaceOf(Claim claim) {
        List<String> found = jdbc.queryForList("select workspace_id from messages where id = ?", String.class,
                claim.messageId());
        return found.stream().findFirst();
    }

    private static String userAgent(Client client) {
        String agent = client.userAgent();
        return agent == null || agent.length() <= MAX_USER_AGENT ? agent : agent.substring(0, MAX_USER_AGENT);
    }
}
