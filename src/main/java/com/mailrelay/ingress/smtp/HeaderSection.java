package com.mailrelay.ingress.smtp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and removes header fields of a message as received, touching no other byte: folding,
 * line endings, 8-bit text and the body all stay exactly as the client sent them.
 *
 * <p>A line ends at CRLF, at a bare LF and at a bare CR: the outbound SMTP client (Angus
 * {@code SMTPOutputStream}) turns each of them into CRLF, so a field hidden behind a bare CR
 * ({@code Subject: x<CR>Bcc: y@z}) would otherwise survive the removal here and reach the
 * upstream as a real header.
 */
final class HeaderSection {

    private HeaderSection() {
    }

    /** The message without the removed fields, and the unfolded values of every field by lower-case name. */
    record Result(byte[] message, Map<String, List<String>> fields) {

        String first(String name) {
            List<String> values = fields.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }
    }

    static Result strip(byte[] raw, Set<String> removeLowerCase) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream(raw.length);
        Map<String, List<String>> fields = new LinkedHashMap<>();
        int position = 0;
        while (position < raw.length) {
            int lineEnd = lineEnd(raw, position);
            if (isBlankLine(raw, position, lineEnd)) {
                break;                                   // end of the header section
            }
            int fieldEnd = lineEnd;
            while (fieldEnd < raw.length && (raw[fieldEnd] == ' ' || raw[fieldEnd] == '\t')) {
                fieldEnd = lineEnd(raw, fieldEnd);       // folded continuation lines
            }
            String field = new String(raw, position, fieldEnd - position, StandardCharsets.UTF_8);
            int colon = field.indexOf(':');
            if (colon > 0) {
                String name = blanksTrimmed(field.substring(0, colon)).toLowerCase(Locale.ROOT);
                String value = blanksTrimmed(field.substring(colon + 1).replaceAll("\r\n|\r|\n", ""));
                fields.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
                if (removeLowerCase.contains(name)) {
                    position = fieldEnd;
                    continue;
                }
            }
            kept.write(raw, position, fieldEnd - position);
            position = fieldEnd;
        }
        kept.write(raw, position, raw.length - position);
        return new Result(kept.toByteArray(), fields);
    }

    /**
     * Only spaces and tabs are trimmed ({@link String#trim} would also drop a trailing NUL or
     * other control, which must be seen to be refused).
     */
    private static String blanksTrimmed(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && (text.charAt(start) == ' ' || text.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\t')) {
            end--;
        }
        return text.substring(start, end);
    }

    /** Index just past the line starting at {@code from}: past its CRLF, LF or bare CR, or the end. */
    private static int lineEnd(byte[] raw, int from) {
        for (int i = from; i < raw.length; i++) {
            if (raw[i] == '\n') {
                return i + 1;
            }
            if (raw[i] == '\r') {
                return i + 1 < raw.length && raw[i + 1] == '\n' ? i + 2 : i + 1;
            }
        }
        return raw.length;
    }

    private static boolean isBlankLine(byte[] raw, int start, int end) {
        int length = end - start;
        return length == 0 || length == 1 && (raw[start] == '\n' || raw[start] == '\r')
                || length == 2 && raw[start] == '\r' && raw[start + 1] == '\n';
    }
}
