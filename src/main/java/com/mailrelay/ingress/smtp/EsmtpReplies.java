package com.mailrelay.ingress.smtp;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Completes SubEthaSMTP's replies on their way to the client, since the library offers no hook
 * for them: every final reply gets an RFC 3463 enhanced status code (ENHANCEDSTATUSCODES), the
 * EHLO reply advertises PIPELINING and ENHANCEDSTATUSCODES, AUTH is left out of it outside TLS
 * unless insecure AUTH is allowed, and STARTTLS is left out once TLS is on. Replies the relay words itself already carry their code
 * and pass unchanged. SubEthaSMTP's reply to a read that timed out is replaced by one that says
 * which limit it was (idle timeout or session deadline).
 */
final class EsmtpReplies extends FilterOutputStream {

    /** What SubEthaSMTP says when a read from the client times out. */
    private static final String TIMEOUT = "421 Timeout waiting for data from client.";
    private static final Pattern HAS_ENHANCED_CODE = Pattern.compile("^\\d{3}[ -][245]\\.\\d{1,3}\\.\\d{1,3}( |$).*");
    /** Codes for SubEthaSMTP's own replies; any other 2xx/4xx/5xx gets x.0.0. */
    private static final Map<String, String> ENHANCED = Map.ofEntries(
            Map.entry("221", "2.0.0"), Map.entry("235", "2.7.0"), Map.entry("250", "2.0.0"),
            Map.entry("421", "4.3.0"), Map.entry("452", "4.5.3"), Map.entry("454", "4.7.0"),
            Map.entry("500", "5.5.2"), Map.entry("501", "5.5.4"), Map.entry("502", "5.5.1"),
            Map.entry("503", "5.5.1"), Map.entry("504", "5.5.4"), Map.entry("530", "5.7.0"),
            Map.entry("535", "5.7.8"), Map.entry("552", "5.3.4"), Map.entry("553", "5.1.0"),
            Map.entry("554", "5.0.0"));

    private final boolean tls;
    private final boolean offerAuth;
    private final String heloReply;
    private final Supplier<String> timeoutReply;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    private boolean inEhloReply;

    /**
     * @param tls               whether this is the TLS side of the connection
     * @param allowInsecureAuth whether AUTH may be listed outside TLS
     * @param timeoutReply      the reply that replaces SubEthaSMTP's to a read that timed out
     */
    EsmtpReplies(OutputStream out, boolean tls, boolean allowInsecureAuth, String hostName,
                 Supplier<String> timeoutReply) {
        super(out);
        this.tls = tls;
        this.offerAuth = tls || allowInsecureAuth;
        this.heloReply = "250 " + hostName;
        this.timeoutReply = timeoutReply;
    }

    /** Synchronized: the drain at shutdown may send its 421 from another thread. */
    @Override
    public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n') {
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            String rewritten = rewrite(text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                    : text.substring(0, text.length() - 1));
            if (rewritten != null) {
                out.write((rewritten + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
        for (int i = offset; i < offset + length; i++) {
            write(bytes[i]);
        }
    }

    /** One reply line in, its replacement (possibly several lines) out, or null to drop it. */
    String rewrite(String reply) {
        if (reply.length() < 3 || !Character.isDigit(reply.charAt(0))) {
            return reply;
        }
        if (reply.equals(TIMEOUT)) {
            return timeoutReply.get();
        }
        String code = reply.substring(0, 3);
        boolean continued = reply.length() > 3 && reply.charAt(3) == '-';
        if (code.equals("250") && continued && !inEhloReply) {
            inEhloReply = true;                 // "250-hostname": the first line of an EHLO reply
            return reply;
        }
        if (inEhloReply) {
            if (continued) {
                boolean hidden = reply.startsWith("250-AUTH") && !offerAuth || reply.equals("250-STARTTLS") && tls;
                return hidden ? null : reply;
            }
            inEhloReply = false;                // SubEthaSMTP ends its EHLO reply with "250 Ok"
            return "250-PIPELINING\r\n250 ENHANCEDSTATUSCODES";
        }
        if (continued || code.startsWith("3") || code.equals("220") || reply.equals(heloReply)
                || HAS_ENHANCED_CODE.matcher(reply).matches()) {
            return reply;                       // the greeting, HELO's reply and intermediate replies carry no code
        }
        String enhanced = ENHANCED.getOrDefault(code, code.charAt(0) + ".0.0");
        String text = reply.length() > 4 ? reply.substring(4) : "";
        return code + " " + enhanced + (text.isEmpty() ? "" : " " + text);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }
}
