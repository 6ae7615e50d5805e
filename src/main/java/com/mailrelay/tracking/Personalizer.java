package com.mailrelay.tracking;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.UnaryOperator;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.RecipientNames;
import com.mailrelay.message.Submission;
import com.mailrelay.message.UnreadableMessageException;
import com.mailrelay.tracking.MergeValues.Context;
import com.mailrelay.workspace.Workspaces;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimePart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Makes one recipient's copy of a message at accept time: fills {{NAME}} variables in the
 * subject and the text and HTML parts, rewrites HTML links to click-tracking URLs, adds the open
 * pixel, and adds RFC 8058 one-click unsubscribe headers — each as the workspace and the email
 * type ask. Works on the MIME of either ingress; parts it does not change are kept as they are.
 */
@Component
public class Personalizer {

    private static final Logger log = LoggerFactory.getLogger(Personalizer.class);
    private static final Session SESSION = Session.getInstance(new Properties());
    /** {{TIME}}: the accept time of day, UTC, to the second (beside {{DATE}}, its date). */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);

    /** What a recipient's stored row holds: its MIME and its (filled-in) subject. */
    public record Copy(byte[] mime, String subject) {
    }

    private final Workspaces workspaces;
    private final TrackingLinks links;

    public Personalizer(Workspaces workspaces, TrackingLinks links) {
        this.workspaces = workspaces;
        this.links = links;
    }

    /**
     * Whether the submission needs per-recipient copies. When it does not (transactional mail by
     * default) it is stored as received: no MIME is parsed.
     */
    public boolean applies(Submission submission) {
        return submission.merge().placeholders() || tracksOpens(submission) || tracksClicks(submission)
                || listUnsubscribe(submission);
    }

    public Copy personalize(Submission submission, UUID messageId, String recipient, RecipientNames names, Instant acceptedAt) {
        String pixel = tracksOpens(submission)
                ? "<img src=\"" + links.open(messageId, recipient) + "\" width=\"1\" height=\"1\" alt=\"\""
                        + " style=\"display:block;width:1px;height:1px;border:0\">"
                : null;
        String unsubscribeUrl = links.unsubscribe(messageId, recipient);
        MergeValues values = new MergeValues(values(submission, recipient, names, unsubscribeUrl, acceptedAt),
                pixel == null ? "" : pixel);
        UnaryOperator<String> clickLink = tracksClicks(submission)
                ? url -> links.isOwn(url) ? null : links.click(messageId, recipient, url) : null;
        Set<String> unknown = new TreeSet<>();
        try {
            MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(submission.rawMime())) {
                @Override
                protected void updateMessageID() {
                    // keep the Message-ID the message was built or received with
                }
            };
            String subject = message.getSubject();
            if (subject != null && subject.contains("{{")) {
                subject = values.substitute(subject, Context.HEADER, unknown, new TreeSet<>());
                message.setSubject(subject, "UTF-8");
            }
            String builtId = message.getMessageID();
            if (builtId != null && !messageId.equals(submission.id()) && builtId.contains(submission.id().toString())) {
                // A Message-ID the relay built (REST) names each copy's own row; a client's own is kept.
                message.setHeader("Message-ID", builtId.replace(submission.id().toString(), messageId.toString()));
            }
            rewriteParts(message, values, clickLink, pixel, unknown);
            if (listUnsubscribe(submission) && message.getHeader("List-Unsubscribe") == null) {
                // A List-Unsubscribe of the submitter's own is kept (with its own Post header, if any).
                message.setHeader("List-Unsubscribe", "<" + unsubscribeUrl + ">");
                message.setHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            }
            message.saveChanges();
            ByteArrayOutputStream out = new ByteArrayOutputStream(submission.rawMime().length + 1024);
            message.writeTo(out);
            if (!unknown.isEmpty()) {
                log.info("message {}: unknown variable(s) {} left as written", messageId, unknown);
            }
            return new Copy(out.toByteArray(), subject == null ? submission.subject() : forColumn(subject));
        } catch (MessagingException | IOException e) {
            throw new UnreadableMessageException("the message's MIME cannot be read to personalise it: "
                    + e.getMessage(), e);
        }
    }

    private void rewriteParts(Part part, MergeValues values, UnaryOperator<String> clickLink, String pixel,
                              Set<String> unknown) throws MessagingException, IOException {
        if (part.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) part.getContent();
            for (int i = 0; i < multipart.getCount(); i++) {
                rewriteParts(multipart.getBodyPart(i), values, clickLink, pixel, unknown);
            }
            part.setContent(multipart);
            return;
        }
        if (Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())
                || !(part.isMimeType("text/html") || part.isMimeType("text/plain"))) {
            return;
        }
        String text;
        try {
            text = text(part);
        } catch (IOException unreadable) {   // e.g. a charset this JVM does not know: leave the part alone
            log.info("a text part could not be decoded and is not personalised: {}", unreadable.getMessage());
            return;
        }
        if (text == null) {
            return;
        }
        String rewritten;
        String subtype;
        if (part.isMimeType("text/html")) {
            Set<String> used = new TreeSet<>();
            String filled = values.substitute(text, Context.HTML, unknown, used);
            // {{TRACKING_PIXEL}} placed the pixel already; otherwise it goes before </body>.
            rewritten = HtmlTracking.rewrite(filled, clickLink,
                    used.contains(MergeValues.TRACKING_PIXEL) ? null : pixel);
            subtype = "html";
        } else {
            rewritten = values.substitute(text, Context.TEXT, unknown, new TreeSet<>());
            subtype = "plain";
        }
        if (!rewritten.equals(text)) {
            part.removeHeader("Content-Transfer-Encoding");   // chosen anew for the new content
            ((MimePart) part).setText(rewritten, "UTF-8", subtype);
        }
    }

    /**
     * A text part's text. With a declared charset, as declared. Without one, 8-bit UTF-8 is common
     * (HTML often declares its charset only in a meta tag), and Jakarta Mail would read it as
     * Latin-1 and garble it when the part is written again: bytes that are valid UTF-8 are read so.
     */
    private static String text(Part part) throws MessagingException, IOException {
        if (new ContentType(part.getContentType()).getParameter("charset") != null) {
            return part.getContent() instanceof String declared ? declared : null;
        }
        byte[] bytes;
        try (InputStream in = part.getInputStream()) {
            bytes = in.readAllBytes();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException notUtf8) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * The values of one recipient, later sources winning: workspace variables, the recipient
     * record's names, the request's variables, the request's variables for this recipient, and
     * last the relay's own (EMAIL, DATE, TIME, WORKSPACE, CAMPAIGN_ID, USER_ID, UNSUBSCRIBE_URL), which
     * a request cannot change.
     */
    private Map<String, String> values(Submission submission, String recipient, RecipientNames names, String unsubscribeUrl,
                                       Instant acceptedAt) {
        Map<String, String> values = new HashMap<>();
        workspace(submission).ifPresent(ws -> putAll(values, ws.variables()));
        if (names.firstName() != null) {
            values.put("FIRST_NAME", names.firstName());
        }
        if (names.lastName() != null) {
            values.put("LAST_NAME", names.lastName());
        }
        putAll(values, submission.merge().variables());
        putAll(values, submission.merge().recipientVariables().getOrDefault(recipient.toLowerCase(Locale.ROOT),
                Map.of()));
        values.put("EMAIL", recipient);
        values.put("DATE", DateTimeFormatter.ISO_LOCAL_DATE.format(acceptedAt.atOffset(ZoneOffset.UTC)));
        values.put("TIME", TIME.format(acceptedAt.atOffset(ZoneOffset.UTC)));
        values.put("WORKSPACE", submission.workspaceId());
        values.put("CAMPAIGN_ID", submission.campaignId() == null ? "" : submission.campaignId());
        values.put("USER_ID", submission.userId() == null ? "" : submission.userId());
        values.put("UNSUBSCRIBE_URL", unsubscribeUrl);
        return values;
    }

    private static void putAll(Map<String, String> target, Map<String, String> source) {
        source.forEach((name, value) -> target.put(name.toUpperCase(Locale.ROOT), value));
    }

    private java.util.Optional<RelayProperties.Workspace> workspace(Submission submission) {
        return workspaces.find(submission.workspaceId());
    }

    private boolean tracksOpens(Submission submission) {
        return workspace(submission).map(ws -> ws.tracking().opens().contains(submission.type())).orElse(false);
    }

    private boolean tracksClicks(Submission submission) {
        return workspace(submission).map(ws -> ws.tracking().clicks().contains(submission.type())).orElse(false);
    }

    private boolean listUnsubscribe(Submission submission) {
        return workspace(submission).map(ws -> ws.listUnsubscribe().contains(submission.type())).orElse(false);
    }

    /** The subject as the messages table keeps it (RFC 5322's line limit); the MIME keeps it whole. */
    private static String forColumn(String subject) {
        return InputLimits.truncated(subject, 998);
    }
}
