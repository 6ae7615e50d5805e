package com.mailrelay.provider;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Makes the MIME one provider sends from the stored bytes: its template's {@code headerRules}
 * applied (the seeds' header_rewrite), the stored message untouched. One rule a line:
 * <pre>
 * set Name: value       every Name header replaced by this one (added if there was none)
 * replace Name: value   only if the message has a Name header
 * remove Name           every Name header removed
 * </pre>
 * Names match case-insensitively; a folded header (continuation lines) is one header. Only the
 * header block is rewritten; the body's bytes are kept as they are, and a header added ends its
 * line as the message's do (CRLF, or LF). Rules are separated by line breaks or {@code ;;}. A rule
 * that cannot be read is the provider's configuration fault (the value must be printable ASCII on
 * one line): its breaker opens and the chain fails over.
 */
@Component("outgoingMime")
public class OutgoingMime {

    private enum Action { SET, REPLACE, REMOVE }

    private record Rule(Action action, String name, String value) {
    }

    private final Map<String, List<Rule>> parsed = new ConcurrentHashMap<>();

    /** Sets the exchange property {@value RelayHeaders#OUTGOING_MIME}; the rules are read from {@value RelayHeaders#HEADER_RULES}. */
    public void prepare(Exchange exchange) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        String text = exchange.getProperty(RelayHeaders.HEADER_RULES, String.class);
        byte[] mime = message.rawMime();
        if (text != null && !text.isBlank()) {
            String providerId = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
            List<Rule> rules = parsed.computeIfAbsent(text, rulesText -> parse(providerId, rulesText));
            mime = apply(rules, mime);
        }
        exchange.setProperty(RelayHeaders.OUTGOING_MIME, mime);
    }

    private static List<Rule> parse(String providerId, String text) {
        List<Rule> rules = new ArrayList<>();
        for (String raw : text.split("\\R|;;")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            String verb = (space < 0 ? line : line.substring(0, space)).toLowerCase(Locale.ROOT);
            String rest = space < 0 ? "" : line.substring(space + 1).strip();
            Action action = switch (verb) {
                case "set" -> Action.SET;
                case "replace" -> Action.REPLACE;
                case "remove" -> Action.REMOVE;
                default -> throw fault(providerId, line, "a rule starts with set, replace or remove");
            };
            String name;
            String value = null;
            if (action == Action.REMOVE) {
                name = rest;
            } else {
                int colon = rest.indexOf(':');
                if (colon < 0) {
                    throw fault(providerId, line, "set and replace take Name: value");
                }
                name = rest.substring(0, colon).strip();
                value = rest.substring(colon + 1).strip();
                if (!value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                    throw fault(providerId, line, "a value is printable ASCII");
                }
            }
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
                throw fault(providerId, line, "a header name is printable ASCII without spaces or colons");
            }
            rules.add(new Rule(action, name, value));
        }
        return List.copyOf(rules);
    }

    private static ProviderConfigurationException fault(String providerId, String line, String why) {
        return new ProviderConfigurationException(providerId, 0, "header rule \"" + line + "\" of provider "
                + providerId + " cannot be read: " + why, null);
    }

    /** The rules applied in order to the header fields (each with its folded lines); the rest kept byte for byte. */
    static byte[] apply(List<Rule> rules, byte[] mime) {
        int end = headerEnd(mime);
        String header = new String(mime, 0, end, StandardCharsets.ISO_8859_1);
        List<String> fields = fields(header);
        // A header added ends its line as the message's own lines end (CRLF, or LF for a message stored with LF).
        int firstNewline = header.indexOf('\n');
        String eol = firstNewline > 0 && header.charAt(firstNewline - 1) != '\r' ? "\n" : "\r\n";
        for (Rule rule : rules) {
            String prefix = rule.name().toLowerCase(Locale.ROOT) + ":";
            boolean present = fields.stream().anyMatch(field -> field.toLowerCase(Locale.ROOT).startsWith(prefix));
            if (rule.action() == Action.REPLACE && !present) {
                continue;
            }
            fields.removeIf(field -> field.toLowerCase(Locale.ROOT).startsWith(prefix));
            if (rule.action() != Action.REMOVE) {
                fields.add(0, rule.name() + ": " + rule.value() + eol);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(mime.length + 256);
        for (String field : fields) {
            out.writeBytes(field.getBytes(StandardCharsets.ISO_8859_1));
        }
        out.write(mime, end, mime.length - end);
        return out.toByteArray();
    }

    /** Index of the blank line ending the header block (or the end, for a message of headers only). */
    private static int headerEnd(byte[] mime) {
        for (int i = 0; i < mime.length; i++) {
            boolean lineStart = i == 0 || mime[i - 1] == '\n';
            if (lineStart && (mime[i] == '\n' || (mime[i] == '\r' && i + 1 < mime.length && mime[i + 1] == '\n'))) {
                return i;
            }
        }
        return mime.length;
    }

    private static List<String> fields(String header) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = null;
        int start = 0;
        while (start < header.length()) {
            int newline = header.indexOf('\n', start);
            int next = newline < 0 ? header.length() : newline + 1;
            String line = header.substring(start, next);
            boolean continuation = line.startsWith(" ") || line.startsWith("\t");
            if (continuation && current != null) {
                current.append(line);
            } else {
                if (current != null) {
                    fields.add(current.toString());
                }
                current = new StringBuilder(line);
            }
            start = next;
        }
        if (current != null) {
            fields.add(current.toString());
        }
        return fields;
    }
}
