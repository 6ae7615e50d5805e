package com.mailrelay.provider.mailgun;

import java.nio.charset.StandardCharsets;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.springframework.stereotype.Component;

/**
 * The request of Mailgun's "send an email in MIME format" ({@code POST /v3/<domain>/messages.mime},
 * documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages): multipart/form-data,
 * built by HttpClient's MultipartEntityBuilder (camel-http's own), with
 * <ul>
 * <li>{@code message}: the outgoing MIME (exchange property relayOutgoingMime) as a file, byte for
 * byte — Mailgun sends it as it is, so the header rules and the DKIM signature reach the recipient;</li>
 * <li>{@code to}: each envelope recipient, one field each — Mailgun delivers to these, not to the
 * headers, so Bcc recipients get the message without appearing in it;</li>
 * <li>{@code v:relay_message_id}: the relay's id, which Mailgun hands back in its events'
 * user-variables, so that provider events find the message (inbound/InboundMessages).</li>
 * </ul>
 * The credentials are not set here: the template's endpoint sends them as Basic auth
 * ({@code api:<apiKey>}), where Camel masks them in logs.
 */
@Component("mailgunRequest")
public class MailgunRequest {

    /** multipart/form-data without the ISO-8859-1 charset HttpCore gives it: the parts say theirs. */
    private static final ContentType FORM = ContentType.create("multipart/form-data");
    private static final ContentType MIME = ContentType.create("message/rfc822");
    private static final ContentType TEXT = ContentType.TEXT_PLAIN.withCharset(StandardCharsets.UTF_8);

    public void build(Exchange exchange) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        byte[] mime = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        MultipartEntityBuilder form = MultipartEntityBuilder.create().setContentType(FORM)
                .addBinaryBody("message", mime, MIME, "message.mime");
        for (String recipient : message.recipients()) {
            form.addTextBody("to", recipient, TEXT);
        }
        form.addTextBody("v:relay_message_id", message.id().toString(), TEXT);
        HttpEntity entity = form.build();
        Message out = exchange.getMessage();
        clearRequestHeaders(out);
        out.setHeader("Content-Type", entity.getContentType());
        out.setHeader("Accept", "application/json");
        out.setBody(entity);
    }

    /**
     * Drops the request headers an earlier provider of the chain may have left on the exchange
     * (its credentials, its X- headers): the header filter would send them to Mailgun too.
     */
    static void clearRequestHeaders(Message message) {
        message.removeHeaders("Authorization");
        message.removeHeaders("Content-Type");
        message.removeHeaders("Accept");
        message.removeHeaders("User-Agent");
        message.removeHeaders("X-*");
        message.removeHeaders("x-*");
    }
}
