package com.mailrelay.provider;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Properties;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import org.apache.camel.Exchange;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.springframework.stereotype.Component;

/**
 * Wraps the stored MIME for camel-mail so that the SMTP envelope, not the headers, decides who
 * receives it — MAIL FROM is the envelope sender and RCPT TO the envelope recipients (which
 * include Bcc recipients that never appear in the headers) — and so that the DATA is the bytes
 * this provider sends (exchange property relayOutgoingMime: the stored bytes, with the provider's
 * header rules and DKIM signature if it has them). The bytes are never parsed: the message object carries only the envelope.
 */
@Component("smtpEnvelope")
public class SmtpEnvelope {

    private static final Session SESSION = Session.getInstance(new Properties());

    /**
     * The message handed to camel-mail. It also carries back the upstream's reply to the end of
     * DATA (the connection that sent it sets it, {@link PooledJavaMailSender}), which the delivery
     * history keeps: camel-mail itself reports nothing of a successful transaction.
     */
    public abstract static class Envelope extends SMTPMessage {

        private volatile String serverReply;

        Envelope() {
            super(SESSION);
        }

        void replied(String reply) {
            this.serverReply = reply;
        }

        /** The upstream's last reply (to the end of DATA) once the message was sent; null before. */
        public String serverReply() {
            return serverReply;
        }
    }

    public SMTPMessage toMimeMessage(Exchange exchange) throws MessagingException {
        ClaimedMessage claimed = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        byte[] outgoing = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        byte[] data = outgoing != null ? outgoing : claimed.rawMime();
        Address[] recipients = new Address[claimed.recipients().size()];
        for (int i = 0; i < recipients.length; i++) {
            recipients[i] = new InternetAddress(claimed.recipients().get(i), false);
        }
        SMTPMessage message = new Envelope() {
            @Override
            public Address[] getAllRecipients() {
                return recipients.clone();
            }

            /** Nothing to update: what is sent is the stored bytes (camel-mail calls this before sending). */
            @Override
            public void saveChanges() {
            }

            /**
             * The stored bytes, whatever camel-mail did to this object before sending (it sets a
             * Date header on it): providers send exactly what was accepted.
             */
            @Override
            public void writeTo(OutputStream out, String[] ignoreHeaders) throws IOException {
                out.write(data);
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(data);
            }
        };
        message.setEnvelopeFrom(claimed.envelopeFrom());
        return message;
    }
}
