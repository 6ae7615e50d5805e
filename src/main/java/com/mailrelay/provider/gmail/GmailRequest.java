package com.mailrelay.provider.gmail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * The request of provider type "gmail" (templates/gmail.kamelet.yaml) for camel-http: Gmail API
 * {@code users.messages.send} by media upload ({@code POST /upload/gmail/v1/users/me/messages/send?uploadType=media}),
 * whose body is the message itself as {@code message/rfc822} — the outgoing MIME byte for byte, no
 * base64url JSON wrapper. "me" is the user the token acts for: the envelope sender, impersonated
 * by the service account through domain-wide delegation ({@link GmailCredentials}).
 *
 * <p>Gmail takes no envelope: it sends to the To, Cc and Bcc headers of the message (and removes
 * Bcc). So an envelope recipient that no such header names — a Bcc of a REST submission, an SMTP
 * RCPT TO the headers do not show — is added in a Bcc header of the request, or Gmail would not
 * reach it. (The converse, a header recipient that is not in the envelope, Gmail sends to as well:
 * the README says so.)
 */
@Component("gmailRequest")
public class GmailRequest {

    /** Exchange property: whose token the request carries, for the classifier to drop it on a 401. */
    static final String DELEGATION = "relayGmailDelegation";

    private final GmailCredentials credentials;
    private final Clock clock;

    public GmailRequest(GmailCredentials credentials, Clock clock) {
        this.credentials = credentials;
        this.clock = clock;
    }

    /** Sets the body (the outgoing MIME) and the headers the call sends: bearer token, content type. */
    public void prepare(Exchange exchange, String providerId, String serviceAccountKey, String serviceAccountKeyFile,
                        String tokenUri, String scopes) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        GmailCredentials.Delegation delegation = new GmailCredentials.Delegation(
                account(serviceAccountKey, serviceAccountKeyFile, tokenUri, scopes), message.envelopeFrom());
        String token;
        try {
            token = credentials.token(providerId, delegation);
        } catch (IOException e) {
            throw GmailReplies.tokenFailure(providerId, message.envelopeFrom(), e, clock);
        }
        exchange.setProperty(DELEGATION, delegation);
        var out = exchange.getMessage();
        // What an earlier HTTP call of the chain left must not steer this one (camel-http reads these).
        out.removeHeaders("CamelHttp*");
        out.setHeader(Exchange.HTTP_METHOD, "POST");
        out.setHeader("Authorization", "Bearer " + token);
        out.setHeader(Exchange.CONTENT_TYPE, "message/rfc822");
        out.setHeader("Accept", "application/json");
        out.setBody(withEnvelopeRecipients(exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class),
                message.recipients()));
    }

    /** The MIME with a Bcc header for the envelope recipients its To, Cc and Bcc headers do not name. */
    static byte[] withEnvelopeRecipients(byte[] mime, List<String> recipients) {
        Set<String> named = new HashSet<>();
        try {
            InternetHeaders headers = new InternetHeaders(new ByteArrayInputStream(mime));
            for (String name : List.of("To", "Cc", "Bcc")) {
                String value = headers.getHeader(name, ",");
                if (value != null) {
                    for (InternetAddress address : InternetAddress.parseHeader(value, false)) {
                        if (address.getAddress() != null) {
                            named.add(address.getAddress().toLowerCase(Locale.ROOT));
                        }
                    }
                }
            }
        } catch (MessagingException unreadable) {
            // Headers that cannot be read name no one: every envelope recipient goes in the Bcc.
        }
        List<String> missing = recipients.stream().filter(r -> !named.contains(r.toLowerCase(Locale.ROOT))).toList();
        if (missing.isEmpty()) {
            return mime;
        }
        byte[] bcc = ("Bcc: " + String.join(",\r\n ", missing) + "\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] out = Arrays.copyOf(bcc, bcc.length + mime.length);
        System.arraycopy(mime, 0, out, bcc.length, mime.length);
        return out;
    }

    static GmailCredentials.Account account(String key, String keyFile, String tokenUri, String scopes) {
        return new GmailCredentials.Account(text(key), text(keyFile), text(tokenUri),
                text(scopes).isEmpty() ? GmailReplies.SEND_SCOPE : text(scopes));
    }

    private static String text(String value) {
        return value == null ? "" : value.trim();
    }
}
