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
