package com.mailrelay.inbound;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;

import com.mailrelay.config.RelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Forgets what no longer needs remembering: tokens whose timestamp is outside the signature window
 * (such a request is refused for its age anyway) and event ids past relay.inbound.event-id-retention.
 */
@Component("inboundRetention")
public class InboundRetention {

    private static final Logger log = LoggerFactory.getLogger(InboundRetention.class);

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final SignatureWindow window;
    private final Duration eventIdRetention;

    public InboundRetention(JdbcTemplate jdbc, Clock clock, SignatureWindow window, RelayProperties properties) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.window = window;
        this.eventIdRetention = properties.inbound().eventIdRetention();
    }

    public void purge() {
        int tokens = jdbc.update("delete from inbound_tokens where signed_at < ?",
                Timestamp.from(window.earliestAccepted()));
        int events = jdbc.update("delete from inbound_events where received_at < ?",
                Timestamp.from(clock.instant().minus(eventIdRetention)));
        if (tokens + events > 0) {
            log.debug("forgot {} inbound token(s) and {} inbound event id(s)", tokens, events);
        }
    }
}
