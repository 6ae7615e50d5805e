package com.mailrelay.tracking;

import java.util.UUID;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.tracking.TrackingTokens.Claim;
import com.mailrelay.tracking.TrackingTokens.Kind;
import org.springframework.stereotype.Component;

/** The public URLs of the open pixel, click redirects and unsubscribe page of one recipient's message. */
@Component
public class TrackingLinks {

    private final TrackingTokens tokens;
    private final String baseUrl;

    public TrackingLinks(TrackingTokens tokens, RelayProperties properties) {
        this.tokens = tokens;
        String base = properties.tracking().baseUrl().trim();
        this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    public String open(UUID messageId, String recipient) {
        return baseUrl + "/t/o/" + tokens.issue(new Claim(Kind.OPEN, messageId, recipient, null)) + ".gif";
    }

    public String click(UUID messageId, String recipient, String url) {
        return baseUrl + "/t/c/" + tokens.issue(new Claim(Kind.CLICK, messageId, recipient, url));
    }

    public String unsubscribe(UUID messageId, String recipient) {
        return baseUrl + "/u/" + tokens.issue(new Claim(Kind.UNSUBSCRIBE, messageId, recipient, null));
    }

    /** Links of the relay itself (unsubscribe, already tracked) are never wrapped again. */
    public boolean isOwn(String url) {
        return url.regionMatches(true, 0, baseUrl + "/", 0, baseUrl.length() + 1);
    }
}
