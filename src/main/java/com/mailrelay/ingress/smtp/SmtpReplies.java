package com.mailrelay.ingress.smtp;

import com.mailrelay.message.Refusal;
import org.apache.camel.Exchange;
import org.apache.camel.util.ObjectHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Turns what the {@code smtp-submit} route failed with into the SMTP reply
 * ({@link SmtpReplyConfiguration} decides which case applies): a {@link Refusal} answers with
 * its own code, enhanced status and message; anything else is {@link SmtpReply#NOT_STORED},
 * logged with its cause.
 */
@Component("smtpReplies")
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpReplies {

    /** Exchange property: the client's address, for the log lines. */
    static final String CLIENT = "relaySmtpClient";

    private static final Logger log = LoggerFactory.getLogger(SmtpReplies.class);

    public void refused(Exchange exchange) {
        Refusal refusal = ObjectHelper.getException(Refusal.class, caught(exchange));
        log.info("SMTP message from {} refused: {}", client(exchange), refusal.getMessage());
        exchange.getMessage().setBody(new SmtpReply(refusal.smtpCode(), refusal.smtpStatus() + " " + refusal.getMessage()));
    }

    public void failed(Exchange exchange) {
        log.error("SMTP message from {} not stored; answering 451", client(exchange), caught(exchange));
        exchange.getMessage().setBody(SmtpReply.NOT_STORED);
    }

    private static Throwable caught(Exchange exchange) {
        return exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
    }

    private static String client(Exchange exchange) {
        return exchange.getProperty(CLIENT, String.class);
    }
}
