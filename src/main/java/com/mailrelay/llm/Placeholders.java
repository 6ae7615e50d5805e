package com.mailrelay.llm;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.message.HtmlText;
import com.mailrelay.message.RecipientContent;
import com.mailrelay.message.UnreadableMessageException;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimePart;

/**
 * The {@code <<NAME>>} placeholders of a message: found in, and replaced in, its subject and its
 * text and HTML parts (attachments and other parts are left alone). In HTML a placeholder may be
 * written as it is or escaped ({@code &lt;&lt;NAME&gt;&gt;}, as an editor writes it), and what
 * replaces it is HTML-escaped. One pass: a replacement is never searched again.
 */
final class Placeholders {

    private static final Session SESSION = Session.getInstance(new Properties());
    private static final Pattern PLAIN = Pattern.compile("<<([A-Z][A-Z0-9_]{0,63})>>");
    private static final Pattern HTML = Pattern.compile("(?:<<|&lt;&lt;)([A-Z][A-Z0-9_]{0,63})(?:>>|&gt;&gt;)");

    private Placeholders() {
    }

    /** The names of the placeholders in the MIME's subject and text parts. */
    static Set<String> find(byte[] mime) {
        Set<String> names = new TreeSet<>();
        walkAndWrite(mime, (text, html) -> {
            Matcher m = (html ? HTML : PLAIN).matcher(text);
            while (m.find()) {
                names.add(m.group(1));
            }
            return text;
        }, null);
        return names;
    }

    /**
     * The MIME with each placeholder of {@code values} replaced (others stay as written); the
     * same bytes when none is there.
     */
    static RecipientContent.Rendered fill(RecipientContent.Rendered content, Map<String, String> values) {
        String[] subject = {content.subject()};
        byte[] filled = walkAndWrite(content.mime(), (text, html) -> replace(text, html, values), subject);
        return filled == null ? content : new RecipientContent.Rendered(subject[0], filled);
    }

    static String replace(String text, boolean html, Map<String, String> values) {
        Matcher m = (html ? HTML : PLAIN).matcher(text);
        StringBuilder out = new StringBuilder(text.length() + 64);
        boolean changed = false;
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
            } else {
                m.appendReplacement(out, Matcher.quoteReplacement(html ? HtmlText.escape(value) : value));
                changed = true;
            }
        }
        m.appendTail(out);
        return changed ? out.toString() : text;
    }

    /** What is done to each text: (text, whether it is HTML) → the new text. */
    private interface TextEdit {
        String apply(String text, boolean html);
    }

    /**
     * Applies {@code edit} to the subject and each text part; the new MIME when something changed
     * (the new subject in {@code subject[0]}), else null. Read only when {@code subject} is null.
     */
    private static byte[] walkAndWrite(byte[] mime, TextEdit edit, String[] subject) {
        try {
            MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(mime)) {
                @Override
                protected void updateMessageID() {
                    // keep the Message-ID the copy was built with
                }
            };
            boolean changed = false;
            String header = message.getSubject();
            if (header != null) {
                String edited = edit.apply(header, false);
                if (!edited.equals(header)) {
                    message.setSubject(edited, "UTF-8");
                    changed = true;
                    if (subject != null) {
                        subject[0] = edited;
                    }
                }
            }
            changed |= parts(message, edit);
            if (!changed || subject == null) {
                return null;
            }
            message.saveChanges();
            ByteArrayOutputStream out = new ByteArrayOutputStream(mime.length + 1024);
            message.writeTo(out);
            return out.toByteArray();
        } catch (MessagingException | IOException e) {
            throw new UnreadableMessageException("the message's MIME cannot be read to fill its placeholders: "
                    + e.getMessage(), e);
        }
    }

    private static boolean parts(Part part, TextEdit edit) throws MessagingException, IOException {
        if (part.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) part.getContent();
            boolean changed = false;
            for (int i = 0; i < multipart.getCount(); i++) {
                changed |= parts(multipart.getBodyPart(i), edit);
            }
            if (changed) {
                part.setContent(multipart);
            }
            return changed;
        }
        if (Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())
                || !(part.isMimeType("text/html") || part.isMimeType("text/plain"))) {
            return false;
        }
        Object content;
        try {
            content = part.getContent();
        } catch (IOException unreadable) {   // e.g. a charset this JVM does not know: left alone
            return false;
        }
        if (!(content instanceof String text)) {
            return false;
        }
        boolean html = part.isMimeType("text/html");
        String edited = edit.apply(text, html);
        if (edited.equals(text)) {
            return false;
        }
        part.removeHeader("Content-Transfer-Encoding");   // chosen anew for the new content
        ((MimePart) part).setText(edited, "UTF-8", html ? "html" : "plain");
        return true;
    }
}
