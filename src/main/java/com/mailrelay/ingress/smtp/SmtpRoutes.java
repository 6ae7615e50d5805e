package com.mailrelay.ingress.smtp;

import com.mailrelay.config.StartupOrder;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * SMTP ingress as a route: each message at the end of DATA enters {@code smtp-submit} from the
 * SMTP server ({@code smtp-ingress:submissions}) and goes to the same {@code direct:accept} path
 * as REST; what a failure is answered is {@link SmtpReplyConfiguration}'s. The route (and with it
 * the server) starts once the route files are loaded, like the queue's consumers.
 */
@Component
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("smtp-ingress:submissions")
                .routeId("smtp-submit").routeConfigurationId(SmtpReplyConfiguration.ID)
                .group(StartupOrder.AFTER_ROUTE_FILES).autoStartup(false)
                .to("direct:accept").id("smtp-accept");
    }
}
