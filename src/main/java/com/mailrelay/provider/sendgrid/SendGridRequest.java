package com.mailrelay.provider.sendgrid;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.PermanentDeliveryException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.springframework.stereotype.Component;

/**
 * The request of template "sendgrid": the MIME this provider sends (exchange property
 * relayOutgoingMime: header rules applied) mapped to SendGrid's JSON ({@link SendGridMail}), POST,
 * its Content-Type and the API key as a Bearer token. Headers of an earlier HTTP call on this
 * exchange (another provider of the chain, whose answer may have set X- headers or an URI) are
 * removed first, so that only what this request needs is sent. Where each recipient stands in the
 * request is kept (exchange property {@value #RECIPIENT_FIELDS}) for {@link SendGridReplies}, since
 * SendGrid names a refused address by its field ("personalizations.0.to.1.email").
 */
@Component("sendGridRequest")
public class SendGridRequest {

    /** Exchange property: Map of request field → recipient address. */
    public static final String RECIPIENT_FIELDS = "sendGridRecipientFields";

    private static final Set<String> STALE = Set.of("authorization", "content-type", "accept", "user-agent",
            "content-encoding", Exchange.HTTP_URI.toLowerCase(Locale.ROOT), Exchange.HTTP_PATH.toLowerCase(Locale.ROOT),
            Exchange.HTTP_QUERY.toLowerCase(Locale.ROOT), Exchange.HTTP_RAW_QUERY.toLowerCase(Locale.ROOT),
            Exchange.HTTP_RESPONSE_CODE.toLowerCase(Locale.ROOT), Exchange.HTTP_RESPONSE_TEXT.toLowerCase(Locale.ROOT));

    public void map(Exchange exchange, String apiKey) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        byte[] outgoing = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        String providerId = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
        SendGridMail mail;
        try {
            mail = SendGridMail.of(outgoing != null ? outgoing : message.rawMime(), message.recipients(),
                    message.envelopeFrom(), message.id().toString(), message.workspaceId());
        } catch (IllegalArgumentException refused) {
            // The same message would be refused the same way next time: no retry, no failover.
            throw new PermanentDeliveryException(providerId, 0, "not sent to SendGrid: " + refused.getMessage(),
                    List.of(), refused);
        }
        Message out = exchange.getMessage();
        List<String> stale = out.getHeaders().keySet().stream()
                .filter(name -> {
                    String lower = name.toLowerCase(Locale.ROOT);
                    return lower.startsWith("x-") || STALE.contains(lower);
                })
                .toList();
        stale.forEach(out::removeHeader);
        out.setHeader(Exchange.HTTP_METHOD, "POST");
        out.setHeader("Content-Type", "application/json");
        out.setHeader("Accept", "application/json");
        out.setHeader("Authorization", "Bearer " + apiKey);
        out.setBody(mail.json().getBytes(StandardCharsets.UTF_8));
        exchange.setProperty(RECIPIENT_FIELDS, mail.recipientFields());
    }
}
