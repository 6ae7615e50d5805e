package com.mailrelay.provider.postmark;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.Json;
import jakarta.mail.Address;
import jakarta.mail.Header;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;

/**
 * The outgoing MIME as the JSON of Postmark's Email API (postmarkapp.com/developer/api/email-api),
 * parsed with Jakarta Mail. Postmark builds the message again from these fields, so:
 * <ul>
 * <li>who receives it is the envelope: each envelope recipient goes to To or Cc when the header
 * names it there (with the header's display name), else to Bcc — a recipient of the headers who is
 * not in the envelope (suppressed, or another recipient's personalised copy) is not sent to;</li>
 * <li>From, Subject and Reply-To come from the headers; the first text/plain and text/html parts
 * that are not attachments are TextBody and HtmlBody; every other leaf part is an attachment
 * (base64, with its ContentType, and ContentID "cid:..." for an inline part);</li>
 * <li>every other header goes into Headers as it is (unfolded) — Message-ID too, so that replies
 * thread and provider events find the message — but those Postmark writes itself (Date,
 * MIME-Version, Content-*), Received and Return-Path, and DKIM-Signature, which would not verify
 * over the rebuilt message;</li>
 * <li>Tag is the submission's first tag (else an X-PM-Tag header), Metadata its metadata with
 * X-PM-Metadata-* headers added, within Postmark's limits (10 fields, names of at most 20 and
 * values of at most 80 characters: what does not fit is left out rather than refused).</li>
 * </ul>
 */
final class PostmarkMessage {

    /** The REST submission's tags and metadata (null when it had none). */
    record Extras(List<String> tags, Map<String, Object> metadata) {
        static final Extras NONE = new Extras(null, null);
    }

    static final int METADATA_FIELDS = 10;
    static final int METADATA_KEY = 20;
    static final int METADATA_VALUE = 80;

    private static final Session SESSION = Session.getInstance(new Properties());
    private static final Set<String> NOT_HEADERS = Set.of("from", "to", "cc", "bcc", "subject", "reply-to", "date",
            "mime-version", "received", "return-path", "dkim-signature", "x-pm-tag", "x-pm-message-stream");
    private static final String METADATA_HEADER = "x-pm-metadata-";

    private PostmarkMessage() {
    }

    static Map<String, Object> map(byte[] mime, ClaimedMessage claimed, String stream, Extras extras) {
        try {
            MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(mime));
            Map<String, Object> json = new LinkedHashMap<>();
            Address[] from = message.getFrom();
            json.put("From", from != null && from.length > 0 ? display(from[0]) : claimed.envelopeFrom());
            Recipients recipients = recipients(message, claimed.recipients());
            putList(json, "To", recipients.to());
            putList(json, "Cc", recipients.cc());
            putList(json, "Bcc", recipients.bcc());
            if (message.getSubject() != null) {
                json.put("Subject", message.getSubject());
            }
            Bodies bodies = new Bodies();
            bodies.walk(message);
            if (bodies.html != null) {
                json.put("HtmlBody", bodies.html);
            }
            if (bodies.text != null) {
                json.put("TextBody", bodies.text);
            }
            Address[] replyTo = message.getHeader("Reply-To") == null ? null : message.getReplyTo();
            if (replyTo != null && replyTo.length > 0) {
                json.put("ReplyTo", join(List.of(replyTo).stream().map(PostmarkMessage::display).toList()));
            }
            String tag = extras.tags() != null && !extras.tags().isEmpty() ? extras.tags().get(0)
                    : header(message, "X-PM-Tag");
            if (tag != null && !tag.isBlank()) {
                json.put("Tag", tag);
            }
            List<Map<String, String>> headers = new ArrayList<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            if (extras.metadata() != null) {
                extras.metadata().forEach((key, value) -> putMetadata(metadata, key, value));
            }
            for (Enumeration<Header> all = message.getAllHeaders(); all.hasMoreElements(); ) {
                Header header = all.nextElement();
                String name = header.getName();
                String lower = name.toLowerCase(Locale.ROOT);
                String value = MimeUtility.unfold(header.getValue()).strip();
                if (lower.startsWith(METADATA_HEADER)) {
                    putMetadata(metadata, name.substring(METADATA_HEADER.length()), value);
                } else if (!NOT_HEADERS.contains(lower) && !lower.startsWith("content-")) {
                    headers.add(Map.of("Name", name, "Value", value));
                }
            }
            if (!headers.isEmpty()) {
                json.put("Headers", headers);
            }
            if (!bodies.attachments.isEmpty()) {
                json.put("Attachments", bodies.attachments);
            }
            if (!metadata.isEmpty()) {
                json.put("Metadata", metadata);
            }
            json.put("MessageStream", stream);
            return json;
        } catch (MessagingException | IOException e) {
            throw new IllegalArgumentException("the message cannot be read as MIME: " + e.getMessage(), e);
        }
    }

    private record Recipients(List<String> to, List<String> cc, List<String> bcc) {
    }

    /** The envelope recipients, by the header that names them (with its display name), else Bcc. */
    private static Recipients recipients(MimeMessage message, List<String> envelope) throws MessagingException {
        Map<String, String> to = named(message, RecipientType.TO);
        Map<String, String> cc = named(message, RecipientType.CC);
        List<String> toList = new ArrayList<>();
        List<String> ccList = new ArrayList<>();
        List<String> bccList = new ArrayList<>();
        for (String recipient : envelope) {
            String key = Addresses.key(recipient);
            if (to.containsKey(key)) {
                toList.add(to.get(key));
            } else if (cc.containsKey(key)) {
                ccList.add(cc.get(key));
            } else {
                bccList.add(recipient);
            }
        }
        return new Recipients(toList, ccList, bccList);
    }

    private static Map<String, String> named(MimeMessage message, RecipientType type) throws MessagingException {
        Map<String, String> named = new LinkedHashMap<>();
        Address[] addresses;
        try {
            addresses = message.getRecipients(type);
        } catch (MessagingException unreadable) {
            return named;
        }
        if (addresses != null) {
            for (Address address : addresses) {
                if (address instanceof InternetAddress internet && internet.getAddress() != null) {
                    named.putIfAbsent(Addresses.key(internet.getAddress()), display(internet));
                }
            }
        }
        return named;
    }

    /** "Name <user@example.com>" with the name quoted where it must be, or the bare address. */
    private static String display(Address address) {
        return address instanceof InternetAddress internet ? internet.toUnicodeString() : address.toString();
    }

    private static void putList(Map<String, Object> json, String field, List<String> addresses) {
        if (!addresses.isEmpty()) {
            json.put(field, join(addresses));
        }
    }

    private static String join(List<String> addresses) {
        return addresses.stream().collect(Collectors.joining(", "));
    }

    private static String header(MimeMessage message, String name) throws MessagingException {
        String value = message.getHeader(name, ",");
        return value == null ? null : MimeUtility.unfold(value).strip();
    }

    private static void putMetadata(Map<String, String> metadata, String key, Object value) {
        if (value == null || key.isEmpty() || key.length() > METADATA_KEY || metadata.size() >= METADATA_FIELDS) {
            return;
        }
        String text = value instanceof String s ? s : Json.write(value);
        metadata.put(key, text.length() > METADATA_VALUE ? text.substring(0, METADATA_VALUE) : text);
    }

    /** The message's text and HTML bodies and its attachments, in the order of its parts. */
    private static final class Bodies {
        String text;
        String html;
        final List<Map<String, String>> attachments = new ArrayList<>();

        void walk(Part part) throws MessagingException, IOException {
            if (part.isMimeType("multipart/*")) {
                Multipart multipart = (Multipart) part.getContent();
                for (int i = 0; i < multipart.getCount(); i++) {
                    walk(multipart.getBodyPart(i));
                }
                return;
            }
            boolean attached = Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition()) || part.getFileName() != null;
            if (!attached && text == null && part.isMimeType("text/plain")) {
                text = String.valueOf(part.getContent());
            } else if (!attached && html == null && part.isMimeType("text/html")) {
                html = String.valueOf(part.getContent());
            } else {
                attachments.add(attachment(part));
            }
        }

        private Map<String, String> attachment(Part part) throws MessagingException, IOException {
            Map<String, String> attachment = new LinkedHashMap<>();
            String name = part.getFileName();
            attachment.put("Name", name == null ? "attachment-" + (attachments.size() + 1) : MimeUtility.decodeText(name));
            byte[] content;
            try (InputStream in = part.getInputStream()) {
                content = in.readAllBytes();
            }
            attachment.put("Content", Base64.getEncoder().encodeToString(content));
            attachment.put("ContentType", new ContentType(part.getContentType()).getBaseType());
            if (part instanceof MimePart mimePart && mimePart.getContentID() != null) {
                String id = mimePart.getContentID().strip();
                if (id.startsWith("<") && id.endsWith(">")) {
                    id = id.substring(1, id.length() - 1);
                }
                attachment.put("ContentID", "cid:" + id);
            }
            return attachment;
        }
    }
}
