package com.mailrelay.ingress.smtp;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.TooMuchDataException;
import org.subethamail.smtp.server.Session;

/**
 * Puts the relay's {@code Received:} header in front of the message data and hands everything
 * else to the transaction's handler. SubEthaSMTP's own header always says {@code with SMTP}; this
 * one names the protocol as RFC 3848 does — {@code ESMTPSA} (STARTTLS and AUTH), {@code ESMTPS}
 * (STARTTLS), {@code ESMTPA} (AUTH in clear, where allowed), {@code ESMTP}, or {@code SMTP} after
 * HELO without either — and the TLS version and cipher in a comment. The client is named by its
 * address literal only: no reverse DNS lookup stalls DATA.
 *
 * <p>It also tells {@link SmtpSessions} when the client has sent the whole message, from which
 * point the drain at shutdown waits for the reply rather than cutting the connection.
 */
final class ReceivedHeader implements MessageHandler {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.US);
    /** A HELO name worth repeating: a domain or an address literal, nothing that could bend the header. */
    private static final Pattern HELO = Pattern.compile("[A-Za-z0-9._:\\-\\[\\]]{1,255}");
    private static final Pattern MAILBOX = Pattern.compile("[^\\s<>()\\\\\"\\[\\],;]{1,64}@[A-Za-z0-9.\\-]{1,189}");

    private final MessageHandler transaction;
    private final Session session;
    private final SmtpSessions sessions;

    ReceivedHeader(MessageHandler transaction, Session session, SmtpSessions sessions) {
        this.transaction = transaction;
        this.session = session;
        this.sessions = sessions;
    }

    @Override
    public void from(String from) throws RejectException {
        transaction.from(from);
    }

    @Override
    public void recipient(String recipient) throws RejectException {
        transaction.recipient(recipient);
    }

    @Override
    public String data(InputStream data) throws RejectException, TooMuchDataException, IOException {
        InputStream header = new ByteArrayInputStream(text().getBytes(StandardCharsets.US_ASCII));
        try {
            return transactionData(header, data);
        } catch (RejectException refused) {
            // The reply to the end of the data ends the transaction whatever it is (RFC 5321
            // 4.1.1.4: the buffers are cleared). SubEthaSMTP clears them only after a 250, so a
            // client that does not send RSET after a refusal would get "503 Sender already
            // specified" for its next MAIL FROM.
            session.resetMailTransaction();
            throw refused;
        }
    }

    private String transactionData(InputStream header, InputStream data)
            throws RejectException, TooMuchDataException, IOException {
        return transaction.data(new SequenceInputStream(header, new FilterInputStream(data) {
            @Override
            public int read() throws IOException {
                return ended(super.read());
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
                return ended(super.read(bytes, offset, length));
            }
        }));
    }

    private int ended(int read) {
        if (read < 0) {
            sessions.committing(session);
        }
        return read;
    }

    @Override
    public void done() {
        transaction.done();
    }

    String text() {
        String address = literal(session.getRemoteAddress().getAddress());
        String helo = session.getHelo().filter(name -> HELO.matcher(name).matches()).orElse(address);
        StringBuilder header = new StringBuilder("Received: from ").append(helo).append(" (").append(address)
                .append(")\r\n        by ").append(session.getServer().getHostName())
                .append(" with ").append(protocol());
        if (session.getSocket() instanceof SSLSocket tls) {
            SSLSession tlsSession = tls.getSession();
            header.append(" (").append(tlsSession.getProtocol()).append(", ").append(tlsSession.getCipherSuite()).append(')');
        }
        header.append(" id ").append(session.getSessionId());
        session.getSingleRecipient().filter(to -> MAILBOX.matcher(to).matches())
                .ifPresent(to -> header.append("\r\n        for <").append(to).append('>'));
        return header.append(";\r\n        ").append(DATE.format(ZonedDateTime.now())).append("\r\n").toString();
    }

    /** RFC 5321 4.4 and RFC 3848. */
    private String protocol() {
        boolean tls = session.isTLSStarted();
        boolean auth = session.isAuthenticated();
        SmtpSessions.State state = sessions.state(session);
        if (!tls && !auth && state != null && !state.extended) {
            return "SMTP";
        }
        return "ESMTP" + (tls ? "S" : "") + (auth ? "A" : "");
    }

    private static String literal(InetAddress address) {
        return address instanceof Inet6Address ? "[IPv6:" + address.getHostAddress() + "]" : "[" + address.getHostAddress() + "]";
    }
}
