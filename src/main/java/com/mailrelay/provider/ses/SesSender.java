package com.mailrelay.provider.ses;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sesv2.model.Destination;
import software.amazon.awssdk.services.sesv2.model.EmailContent;
import software.amazon.awssdk.services.sesv2.model.RawMessage;
import software.amazon.awssdk.services.sesv2.model.SendEmailRequest;

/**
 * The call of provider type "ses" (templates/ses.kamelet.yaml): SES v2 {@code SendEmail} with
 * {@code Content.Raw} = the MIME this provider sends (exchange property relayOutgoingMime: header
 * rules and DKIM applied), {@code Destination} = the envelope recipients and
 * {@code FromEmailAddress} = the envelope sender, so that SES delivers to exactly the recipients the
 * relay accepted (Bcc included) whatever the headers say. Through the AWS SDK, which signs each
 * request (SigV4) and reads the default credentials chain when no key is configured.
 *
 * <p>Like an HTTP call with throwExceptionOnFailure=false, an answer of SES is not thrown here: the
 * SDK's exception is kept on the exchange for {@link SesReplies} to classify, which is the next step
 * of the template. Only what is not the SDK's (a bug, an interrupt) leaves this method.
 */
@Component("sesSender")
public class SesSender {

    /** Exchange property: the SDK's exception for the reply classifier, when SES refused or was not reached. */
    static final String FAILURE = "relaySesFailure";

    private final SesClients clients;

    public SesSender(SesClients clients) {
        this.clients = clients;
    }

    /** Sends the outgoing MIME; the body becomes SES's {@code SendEmailResponse} (or stays, with {@value #FAILURE} set). */
    public void send(Exchange exchange, String providerId, String region, String accessKeyId, String secretAccessKey,
                     String configurationSet, String endpointOverride, int timeoutMillis) {
        exchange.removeProperty(FAILURE);
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        byte[] mime = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        SendEmailRequest.Builder request = SendEmailRequest.builder()
                .fromEmailAddress(message.envelopeFrom())
                .destination(Destination.builder().toAddresses(message.recipients()).build())
                .content(EmailContent.builder().raw(RawMessage.builder().data(SdkBytes.fromByteArray(mime)).build())
                        .build());
        if (configurationSet != null && !configurationSet.isBlank()) {
            request.configurationSetName(configurationSet.trim());
        }
        SesClients.Settings settings = new SesClients.Settings(text(region), text(accessKeyId), text(secretAccessKey),
                text(endpointOverride), timeoutMillis);
        try {
            exchange.getMessage().setBody(clients.client(providerId, settings).sendEmail(request.build()));
        } catch (SdkException e) {
            exchange.setProperty(FAILURE, e);
        }
    }

    private static String text(String value) {
        return value == null ? "" : value.trim();
    }
}
