package com.mailrelay.tracking;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.tracking.TrackingTokens.Claim;
import com.mailrelay.tracking.TrackingTokens.Kind;
import org.springframework.stereotype.Component;

/**
 * The public URLs of the open pixel, click redirects and unsubscribe page of one recipient's message;
 * each token carries its expiry (relay.tracking.token-lifetime from now).
 */
@Component
public class TrackingLinks {

    private final TrackingTokens tokens;
    private final String baseUrl;
    private final Duration lifetime;
    private final Clock clock;

    public TrackingLinks(TrackingTokens tokens, RelayProperties properties, Clock clock) {
        this.tokens = tokens;
        this.lifetime = properties.tracking().tokenLifetime();
        this.clock = clock;
        String base = properties.tracking().baseUrl().trim();
        this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    public String open(UUID messageId, String recipient) {
        return baseUrl + "/t/o/" + tokens.issue(new Claim(Kind.OPEN, messageId, recipient, null, expiry())) + ".gif";
    }

    public String click(UUID messageId, String recipient, String url) {
        return baseUrl + "/t/c/" + tokens.issue(new Claim(Kind.CLICK, messageId, recipient, url, expiry()));
    }

    public String unsubscribe(UUID messageId, String recipient) {
        return baseUrl + "/u/" + tokens.issue(new Claim(Kind.UNSUBSCRIBE, messageId, recipient, null, expiry()));
    }

    /** Links minted now work for relay.tracking.token-lifetime. */
    private Instant expiry() {
        return clock.instant().plus(lifetime);
    }

    /** Links of the relay itself (unsubscribe, already tracked) are never wrapped again. */
    public boolean isOwn(String url) {
        return url.regionMatches(true, 0, baseUrl + "/", 0, baseUrl.length() + 1);
    }
}
