package com.mailrelay.provider.sendgrid;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UnsupportedEncodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.mail.Header;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;

/**
 * The body of one SendGrid v3 Mail Send request made from a MIME message and its envelope: what
 * SendGrid's reference (api-reference/mail-send/mail-send and its errors page) asks for.
 * <ul>
 * <li>One personalization, and the envelope decides who receives: an envelope recipient named in
 * the To header goes to {@code to}, one in Cc to {@code cc}, any other to {@code bcc} (with the
 * name its header gives it). SendGrid requires a {@code to} in every personalization: mail whose
 * To names none of the envelope recipients (all Bcc) gets one personalization per recipient, each
 * its own {@code to}, so that no recipient sees another. Each address once (SendGrid refuses
 * duplicates), at most {@value #MAX_RECIPIENTS} in all.</li>
 * <li>{@code content}: the message's text/plain, then its text/html (SendGrid wants them in that
 * order, first), decoded from their charset; other leaves are {@code attachments} (base64, type,
 * filename, disposition, and content_id for inline parts of multipart/related).</li>
 * <li>{@code headers}: the other headers, unfolded, except those SendGrid reserves or builds from
 * the fields (To, From, Subject, Content-Type, DKIM-Signature...) and the relay's Mandrill-style
 * instructions, which become {@code categories} (X-MC-Tags, at most {@value #MAX_CATEGORIES}) and
 * {@code custom_args} (X-MC-Metadata) — with the relay message id and workspace, which SendGrid's
 * events carry back (inbound/SendGridWebhook reads {@value #RELAY_MESSAGE_ID}).</li>
 * </ul>
 * Plain Jakarta Mail and Jackson, no Camel: {@link SendGridRequest} is the bean that uses it.
 */
public final class SendGridMail {

    /** SendGrid: "There is a limit of 1000 total recipients (to + cc + bcc) per request." */
    public static final int MAX_RECIPIENTS = 1000;
    /** SendGrid: at most 10 categories per message. */
    public static final int MAX_CATEGORIES = 10;
    /** SendGrid: each category at most 255 characters. */
    public static final int MAX_CATEGORY_LENGTH = 255;
    /** The custom arg SendGrid's events carry back and the relay's inbound events read. */
    public static final String RELAY_MESSAGE_ID = "relay_message_id";
    public static final String RELAY_WORKSPACE = "relay_workspace";

    /**
     * SendGrid's reserved headers (it refuses a request that sets them in {@code headers}: "x-sg-id,
     * x-sg-eid, received, dkim-signature, Content-Type, Content-Transfer-Encoding, To, From,
     * Subject, Reply-To, CC, BCC"), and those it writes itself for the JSON it is given (MIME
     * structure, date, return path) or that are instructions to the relay.
     */
    private static final Set<String> NOT_SENT = Set.of("x-sg-id", "x-sg-eid", "received", "dkim-signature",
            "content-type", "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
            "mime-version", "date", "return-path", "sender", "content-disposition", "content-id",
            "content-description", "x-smtpapi", "x-mc-tags", "x-mc-metadata", "x-mc-mergevars", "x-relay-type");

    private static final Session SESSION = Session.getInstance(new Properties());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where each recipient stands in the request, e.g. "personalizations.0.bcc.1.email" → its address. */
    private final Map<String, String> recipientFields = new LinkedHashMap<>();
    private final ObjectNode body = JSON.createObjectNode();

    private SendGridMail() {
    }

    /**
     * @param recipients the envelope recipients (who receives the message)
     * @param envelopeFrom the envelope sender, the from address when the message has no From
     * @throws IllegalArgumentException when the message cannot be read or breaks a SendGrid limit
     */
    public static SendGridMail of(byte[] mime, List<String> recipients, String envelopeFrom, String relayMessageId,
                                  String workspace) {
        SendGridMail mail = new SendGridMail();
        try {
            MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(mime));
            mail.personalizations(message, recipients);
            mail.from(message, envelopeFrom);
            mail.replyTo(message);
            String subject = message.getSubject();
            if (subject != null && !subject.isEmpty()) {
                mail.body.put("subject", subject);
            }
            mail.parts(message);
            mail.headers(message);
            mail.tagsAndMetadata(message, relayMessageId, workspace);
        } catch (MessagingException | IOException e) {
            throw new IllegalArgumentException("the message cannot be read as MIME: " + e.getMessage(), e);
        }
        return mail;
    }

    public String json() {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    public ObjectNode body() {
        return body;
    }

    /** The request's recipient fields (as SendGrid's errors name them) and their addresses. */
    public Map<String, String> recipientFields() {
        return Map.copyOf(recipientFields);
    }

    private void personalizations(MimeMessage message, List<String> recipients) throws MessagingException {
        if (recipients.size() > MAX_RECIPIENTS) {
            throw new IllegalArgumentException(recipients.size() + " recipients: SendGrid takes at most "
                    + MAX_RECIPIENTS + " per request (to + cc + bcc)");
        }
        Map<String, InternetAddress> to = named(message, "To");
        Map<String, InternetAddress> cc = named(message, "Cc");
        Set<String> seen = new LinkedHashSet<>();
        List<InternetAddress> toList = new ArrayList<>();
        List<InternetAddress> ccList = new ArrayList<>();
        List<InternetAddress> bccList = new ArrayList<>();
        for (String recipient : recipients) {
            String key = recipient.toLowerCase(Locale.ROOT);
            if (!seen.add(key)) {
                continue;
            }
            if (to.containsKey(key)) {
                toList.add(withAddress(to.get(key), recipient));
            } else if (cc.containsKey(key)) {
                ccList.add(withAddress(cc.get(key), recipient));
            } else {
                bccList.add(bare(recipient));
            }
        }
        ArrayNode personalizations = body.putArray("personalizations");
        if (toList.isEmpty()) {
            // SendGrid requires a "to" in each personalization: each recipient its own, seeing no other.
            List<InternetAddress> all = new ArrayList<>(ccList);
            all.addAll(bccList);
            for (InternetAddress recipient : all) {
                ObjectNode personalization = personalizations.addObject();
                addresses(personalization, personalizations.size() - 1, "to", List.of(recipient));
            }
            return;
        }
        ObjectNode personalization = personalizations.addObject();
        addresses(personalization, 0, "to", toList);
        addresses(personalization, 0, "cc", ccList);
        addresses(personalization, 0, "bcc", bccList);
    }

    private void addresses(ObjectNode personalization, int index, String field, List<InternetAddress> list) {
        if (list.isEmpty()) {
            return;
        }
        ArrayNode array = personalization.putArray(field);
        for (InternetAddress address : list) {
            recipientFields.put("personalizations." + index + "." + field + "." + array.size() + ".email",
                    address.getAddress());
            array.add(address(address));
        }
    }

    private static ObjectNode address(InternetAddress address) {
        ObjectNode node = JSON.createObjectNode();
        node.put("email", address.getAddress());
        if (address.getPersonal() != null && !address.getPersonal().isBlank()) {
            node.put("name", address.getPersonal());
        }
        return node;
    }

    /** The header's addresses by lower-cased address (names decoded from encoded-words). */
    private static Map<String, InternetAddress> named(MimeMessage message, String header) throws MessagingException {
        Map<String, InternetAddress> byAddress = new LinkedHashMap<>();
        for (InternetAddress address : parse(message.getHeader(header, ","))) {
            if (address.getAddress() != null) {
                byAddress.putIfAbsent(address.getAddress().toLowerCase(Locale.ROOT), address);
            }
        }
        return byAddress;
    }

    /** Lenient: a header the relay accepted but that Jakarta Mail finds odd still gives what it can. */
    private static List<InternetAddress> parse(String value) {
        List<InternetAddress> list = new ArrayList<>();
        if (value == null || value.isBlank()) {
            return list;
        }
        try {
            for (InternetAddress address : InternetAddress.parseHeader(value, false)) {
                if (address.isGroup()) {
                    list.addAll(List.of(address.getGroup(false)));
                } else {
                    list.add(address);
                }
            }
        } catch (AddressException unreadable) {
            // no names for these recipients; the envelope still decides who receives the message
        }
        return list;
    }

    /** The envelope's spelling of the address (what was accepted), the header's name. */
    private static InternetAddress withAddress(InternetAddress named, String envelope) {
        try {
            return new InternetAddress(envelope, named.getPersonal(), StandardCharsets.UTF_8.name());
        } catch (UnsupportedEncodingException e) {
            throw new IllegalStateException("UTF-8 is always supported", e);
        }
    }

    private static InternetAddress bare(String envelope) {
        InternetAddress address = new InternetAddress();
        address.setAddress(envelope);
        return address;
    }

    private void from(MimeMessage message, String envelopeFrom) throws MessagingException {
        List<InternetAddress> from = parse(message.getHeader("From", ","));
        if (!from.isEmpty()) {
            body.set("from", address(from.get(0)));
        } else {
            body.set("from", address(bare(envelopeFrom)));
        }
    }

    /** One Reply-To is reply_to; several are reply_to_list (SendGrid refuses both at once). */
    private void replyTo(MimeMessage message) throws MessagingException {
        List<InternetAddress> replyTo = parse(message.getHeader("Reply-To", ","));
        if (replyTo.size() == 1) {
            body.set("reply_to", address(replyTo.get(0)));
        } else if (replyTo.size() > 1) {
            ArrayNode list = body.putArray("reply_to_list");
            replyTo.forEach(address -> list.add(address(address)));
        }
    }

    private record Leaf(Part part, boolean related) {
    }

    private void parts(MimeMessage message) throws MessagingException, IOException {
        List<Leaf> leaves = new ArrayList<>();
        collect(message, false, leaves);
        String text = null;
        String html = null;
        List<Leaf> attachments = new ArrayList<>();
        for (Leaf leaf : leaves) {
            Part part = leaf.part();
            boolean body = !Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition()) && part.getFileName() == null;
            if (body && text == null && part.isMimeType("text/plain")) {
                text = text(part);
            } else if (body && html == null && part.isMimeType("text/html")) {
                html = text(part);
            } else {
                attachments.add(leaf);
            }
        }
        ArrayNode content = body.putArray("content");
        if (text != null && !text.isEmpty()) {
            content.addObject().put("type", "text/plain").put("value", text);
        }
        if (html != null && !html.isEmpty()) {
            content.addObject().put("type", "text/html").put("value", html);
        }
        if (content.isEmpty()) {
            // SendGrid requires one content block of at least one character; a message of attachments
            // only (a scanner's) would otherwise be refused for good.
            content.addObject().put("type", "text/plain").put("value", " ");
        }
        if (!attachments.isEmpty()) {
            ArrayNode array = body.putArray("attachments");
            for (Leaf leaf : attachments) {
                array.add(attachment(leaf, array.size() + 1));
            }
        }
    }

    private static void collect(Part part, boolean related, List<Leaf> leaves) throws MessagingException, IOException {
        if (part.isMimeType("multipart/*")) {
            Object content = part.getContent();
            if (content instanceof Multipart multipart) {
                boolean isRelated = related || part.isMimeType("multipart/related");
                for (int i = 0; i < multipart.getCount(); i++) {
                    collect(multipart.getBodyPart(i), isRelated, leaves);
                }
                return;
            }
        }
        leaves.add(new Leaf(part, related));
    }

    /** A text part decoded from its charset; one Java does not know is read as Latin-1 rather than lost. */
    private static String text(Part part) throws MessagingException, IOException {
        try {
            Object content = part.getContent();
            if (content instanceof String string) {
                return string;
            }
        } catch (UnsupportedEncodingException unknownCharset) {
            // below
        }
        try (InputStream in = part.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static ObjectNode attachment(Leaf leaf, int number) throws MessagingException, IOException {
        Part part = leaf.part();
        byte[] bytes;
        try (InputStream in = part.getInputStream()) {
            bytes = in.readAllBytes();
        }
        String type = contentType(part);
        String contentId = part instanceof MimePart mime ? mime.getContentID() : null;
        if (contentId != null) {
            contentId = contentId.trim().replaceFirst("^<", "").replaceFirst(">$", "");
        }
        String filename = filename(part);
        ObjectNode node = JSON.createObjectNode();
        node.put("content", Base64.getEncoder().encodeToString(bytes));
        node.put("type", type);
        node.put("filename", filename != null ? filename
                : contentId != null && !contentId.isEmpty() ? contentId : "part-" + number);
        // Inline: a part the HTML refers to (cid:), that is, one with a Content-ID in multipart/related
        // or marked inline; SendGrid needs its content_id.
        boolean inline = contentId != null && !contentId.isEmpty()
                && !Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())
                && (leaf.related() || Part.INLINE.equalsIgnoreCase(part.getDisposition()));
        node.put("disposition", inline ? "inline" : "attachment");
        if (inline) {
            node.put("content_id", contentId);
        }
        return node;
    }

    private static String contentType(Part part) throws MessagingException {
        try {
            return new ContentType(part.getContentType()).getBaseType().toLowerCase(Locale.ROOT);
        } catch (RuntimeException | MessagingException unreadable) {
            return "application/octet-stream";
        }
    }

    /** The file name, RFC 2231 parameters and RFC 2047 encoded-words decoded. */
    private static String filename(Part part) throws MessagingException {
        String name = part.getFileName();
        if (name == null || name.isBlank()) {
            return null;
        }
        try {
            return MimeUtility.decodeText(name);
        } catch (UnsupportedEncodingException unknownCharset) {
            return name;
        }
    }

    /** The other headers, unfolded, as they are (encoded-words kept); the first of a repeated one. */
    private void headers(MimeMessage message) throws MessagingException {
        ObjectNode headers = JSON.createObjectNode();
        Set<String> seen = new LinkedHashSet<>();
        for (var all = message.getAllHeaders(); all.hasMoreElements(); ) {
            Header header = all.nextElement();
            String lower = header.getName().toLowerCase(Locale.ROOT);
            if (NOT_SENT.contains(lower) || !seen.add(lower)) {
                continue;
            }
            headers.put(header.getName(), MimeUtility.unfold(header.getValue()).strip());
        }
        if (!headers.isEmpty()) {
            body.set("headers", headers);
        }
    }

    /** X-MC-Tags → categories; X-MC-Metadata → custom_args (values as strings); the relay's ids win. */
    private void tagsAndMetadata(MimeMessage message, String relayMessageId, String workspace)
            throws MessagingException {
        String tags = message.getHeader("X-MC-Tags", ",");
        if (tags != null) {
            ArrayNode categories = JSON.createArrayNode();
            Set<String> distinct = new LinkedHashSet<>();
            for (String tag : MimeUtility.unfold(tags).split(",")) {
                String trimmed = tag.strip();
                if (!trimmed.isEmpty() && trimmed.length() <= MAX_CATEGORY_LENGTH && distinct.size() < MAX_CATEGORIES
                        && distinct.add(trimmed)) {
                    categories.add(trimmed);
                }
            }
            if (!categories.isEmpty()) {
                body.set("categories", categories);
            }
        }
        ObjectNode customArgs = JSON.createObjectNode();
        String metadata = message.getHeader("X-MC-Metadata", null);
        if (metadata != null) {
            try {
                JsonNode object = JSON.readTree(MimeUtility.unfold(metadata));
                if (object != null && object.isObject()) {
                    object.fields().forEachRemaining(field -> customArgs.put(field.getKey(),
                            field.getValue().isTextual() ? field.getValue().asText() : field.getValue().toString()));
                }
            } catch (JsonProcessingException unreadable) {
                // accepted by the relay as a JSON object; if it is not one now, it is left out
            }
        }
        customArgs.put(RELAY_MESSAGE_ID, relayMessageId);
        customArgs.put(RELAY_WORKSPACE, workspace);
        body.set("custom_args", customArgs);
    }
}
