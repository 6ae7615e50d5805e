package com.mailrelay.ingress.rest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UnsupportedEncodingException;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import com.mailrelay.message.Addresses;
import jakarta.activation.DataHandler;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.util.ByteArrayDataSource;
import org.springframework.stereotype.Component;

/**
 * Builds the RFC 5322 message for a REST submission, once, at accept time: what is stored is
 * exactly what every provider will send. Bcc recipients are envelope-only and never appear here.
 */
@Component
public class MimeComposer {

    private static final Session SESSION = Session.getInstance(new Properties());

    public record DecodedAttachment(String filename, String contentType, byte[] content) {
    }

    private final Clock clock;

    public MimeComposer(Clock clock) {
        this.clock = clock;
    }

    public byte[] compose(UUID id, MessageRequest request, List<DecodedAttachment> attachments) {
        try {
            InternetAddress from = Addresses.parse(request.from());
            String messageId = "<" + id + "@" + domainOf(from.getAddress()) + ">";
            MimeMessage message = new MimeMessage(SESSION) {
                @Override
                protected void updateMessageID() throws MessagingException {
                    setHeader("Message-ID", messageId);
                }
            };
            message.setFrom(from);
            message.setRecipients(RecipientType.TO, addresses(request.to()));
            if (request.cc() != null && !request.cc().isEmpty()) {
                message.setRecipients(RecipientType.CC, addresses(request.cc()));
            }
            if (request.replyTo() != null) {
                message.setReplyTo(new InternetAddress[] {Addresses.parse(request.replyTo())});
            }
            message.setSubject(request.subject(), "UTF-8");
            message.setSentDate(Date.from(clock.instant()));
            if (request.headers() != null) {
                for (var header : request.headers().entrySet()) {
                    message.setHeader(header.getKey(), MimeUtility.fold(header.getKey().length() + 2,
                            MimeUtility.encodeText(header.getValue(), "UTF-8", null)));
                }
            }
            setContent(message, request, attachments);
            message.saveChanges();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            message.writeTo(out);
            return out.toByteArray();
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException("could not build the MIME message", e);
        }
    }

    private static void setContent(MimeMessage message, MessageRequest request, List<DecodedAttachment> attachments)
            throws MessagingException {
        if (attachments.isEmpty()) {
            fillBody(message, request);
            return;
        }
        MimeMultipart mixed = new MimeMultipart("mixed");
        MimeBodyPart body = new MimeBodyPart();
        fillBody(body, request);
        mixed.addBodyPart(body);
        for (DecodedAttachment attachment : attachments) {
            MimeBodyPart part = new MimeBodyPart();
            part.setDataHandler(new DataHandler(new ByteArrayDataSource(attachment.content(), attachment.contentType())));
            try {
                part.setFileName(MimeUtility.encodeText(attachment.filename(), "UTF-8", null));
            } catch (UnsupportedEncodingException e) {
                throw new IllegalStateException("UTF-8 is always supported", e);
            }
            part.setDisposition(Part.ATTACHMENT);
            mixed.addBodyPart(part);
        }
        message.setContent(mixed);
    }

    /** The text/html body: a single part, or multipart/alternative when both are given. */
    private static void fillBody(MimePart target, MessageRequest request) throws MessagingException {
        boolean hasText = request.text() != null && !request.text().isBlank();
        boolean hasHtml = request.html() != null && !request.html().isBlank();
        if (hasText && hasHtml) {
            MimeMultipart alternative = new MimeMultipart("alternative");
            MimeBodyPart text = new MimeBodyPart();
            text.setText(request.text(), "UTF-8", "plain");
            MimeBodyPart html = new MimeBodyPart();
            html.setText(request.html(), "UTF-8", "html");
            alternative.addBodyPart(text);
            alternative.addBodyPart(html);
            target.setContent(alternative);
        } else if (hasHtml) {
            target.setText(request.html(), "UTF-8", "html");
        } else {
            target.setText(request.text(), "UTF-8", "plain");
        }
    }

    private static InternetAddress[] addresses(List<String> values) {
        return values.stream().map(Addresses::parse).toArray(InternetAddress[]::new);
    }

    private static String domainOf(String address) {
        return address.substring(address.lastIndexOf('@') + 1);
    }
}
