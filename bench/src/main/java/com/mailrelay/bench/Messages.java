package com.mailrelay.bench;

import java.nio.charset.StandardCharsets;

/**
 * Message bytes built once per phase; each send copies them and writes its marker into the copy
 * (a 2 KB array copy, no MIME library on the load generator's side).
 */
record Messages(byte[] template, int markerOffset) {

    private static final String PLACEHOLDER = Phase.SUBJECT_PREFIX + "PP-SSSSSSS";

    /** One copy of the template carrying the marker of message {@code seq} of {@code phase}. */
    byte[] forMessage(Phase phase, int seq) {
        byte[] bytes = template.clone();
        phase.writeMarker(bytes, markerOffset, seq);
        return bytes;
    }

    /**
     * A plain-text message of about {@code bytes} bytes, headers included, as sent after DATA:
     * CRLF line ends, lines of 78 characters, ending with the terminating "." line.
     */
    static Messages smtp(int bytes) {
        StringBuilder text = new StringBuilder(bytes + 100)
                .append("From: <").append(SmtpClient.SENDER).append(">\r\n")
                .append("To: <").append(SmtpClient.RECIPIENT).append(">\r\n")
                .append("Subject: ").append(PLACEHOLDER).append("\r\n")
                .append("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("Content-Type: text/plain; charset=us-ascii\r\n")
                .append("\r\n");
        appendLines(text, bytes - text.length(), "\r\n");
        text.append(".\r\n");
        String message = text.toString();
        return new Messages(message.getBytes(StandardCharsets.US_ASCII),
                message.indexOf(PLACEHOLDER) + Phase.SUBJECT_PREFIX.length());
    }

    /**
     * A {@code POST /api/v1/messages} body whose composed message is about {@code bytes} bytes (the
     * relay adds about 400 bytes of headers to the text).
     */
    static Messages rest(int bytes) {
        StringBuilder body = new StringBuilder(bytes + 200)
                .append("{\"from\":\"").append(SmtpClient.SENDER).append("\",")
                .append("\"to\":[\"").append(SmtpClient.RECIPIENT).append("\"],")
                .append("\"subject\":\"").append(PLACEHOLDER).append("\",")
                .append("\"text\":\"");
        appendLines(body, bytes - 400, "\\n");
        body.append("\"}");
        String json = body.toString();
        return new Messages(json.getBytes(StandardCharsets.US_ASCII),
                json.indexOf(PLACEHOLDER) + Phase.SUBJECT_PREFIX.length());
    }

    /**
     * A personalised marketing {@code POST /api/v1/messages} body of about {@code bytes} bytes: type
     * marketing (tracked by default: open pixel, click links, List-Unsubscribe), an HTML part with
     * three links and a {@code {{FIRST_NAME}}} placeholder filled from {@code recipient_variables},
     * and a text part with the same placeholder: each accept builds the recipient's own copy.
     */
    static Messages marketing(int bytes) {
        StringBuilder body = new StringBuilder(bytes + 400)
                .append("{\"from\":\"").append(SmtpClient.SENDER).append("\",")
                .append("\"to\":[\"").append(SmtpClient.RECIPIENT).append("\"],")
                .append("\"type\":\"marketing\",")
                .append("\"subject\":\"").append(PLACEHOLDER).append("\",")
                .append("\"recipient_variables\":{\"").append(SmtpClient.RECIPIENT)
                .append("\":{\"FIRST_NAME\":\"Alice\"}},")
                .append("\"html\":\"<html><body><p>Hello {{FIRST_NAME}},</p>")
                .append("<p><a href=\\\"https://shop.bench.test/sale\\\">Autumn sale</a> | ")
                .append("<a href=\\\"https://shop.bench.test/new?ref=mail\\\">New in</a> | ")
                .append("<a href=\\\"https://bench.test/account\\\">Your account</a></p><p>");
        int htmlBudget = Math.max(0, (bytes - 900) / 2);
        appendLines(body, htmlBudget, " ");
        body.append("</p></body></html>\",\"text\":\"Hello {{FIRST_NAME}},\\n");
        appendLines(body, Math.max(0, bytes - 900 - htmlBudget), "\\n");
        body.append("\"}");
        String json = body.toString();
        return new Messages(json.getBytes(StandardCharsets.UTF_8),
                json.indexOf(PLACEHOLDER) + Phase.SUBJECT_PREFIX.length());
    }

    /** Lines of 'x' (76 characters and the line end) adding up to about {@code count} characters. */
    private static void appendLines(StringBuilder target, int count, String lineEnd) {
        int written = 0;
        while (written < count) {
            int length = Math.max(1, Math.min(76, count - written - 2));
            target.append("x".repeat(length)).append(lineEnd);
            written += length + 2;
        }
    }
}
