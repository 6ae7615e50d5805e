package com.mailrelay.ingress.smtp;

import com.mailrelay.message.Refusal;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * What an SMTP submission is answered when the accept path fails, declared once (as
 * api.RestErrorConfiguration does for REST): a {@link Refusal} carries its own reply
 * ({@code 552 5.3.4} too large, {@code 451 4.7.1} rate limited, {@code 554 5.6.0} by default);
 * anything else is {@code 451 4.3.0}, nothing stored, try again. The reply goes back in the body
 * ({@link SmtpReply}) and the SMTP transaction sends it.
 */
@Component
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpReplyConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "smtp-replies";

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(Refusal.class).handled(true)
                    .bean("smtpReplies", "refused")
                .end()
                .onException(Exception.class).handled(true)
                    .bean("smtpReplies", "failed")
                .end();
    }
}
