package com.mailrelay.ingress.smtp;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.convert.DurationStyle;
import org.subethamail.smtp.server.SSLSocketCreator;
import org.subethamail.smtp.server.ServerSocketCreator;

/**
 * Socket plumbing that puts {@link EsmtpReplies} between SubEthaSMTP and the client, before and
 * after STARTTLS. The plain socket's stream is filtered until TLS starts; from then on the TLS
 * handshake uses its raw stream and the filter moves onto the TLS socket.
 *
 * <p>It also enforces the session deadline: every read from the client, in clear or in TLS,
 * waits at most until the connection's deadline (and at most the idle timeout), so a client that
 * stays connected past {@code relay.smtp.session-deadline}, however busy, gets
 * {@code 421 4.4.2} at its next read and is disconnected. Nothing is read while a message is
 * being stored, so the deadline never cuts a reply the client is owed.
 */
final class EsmtpSockets implements ServerSocketCreator, SSLSocketCreator {

    private static final Logger log = LoggerFactory.getLogger(EsmtpSockets.class);

    private final SSLContext tls;
    private final boolean allowInsecureAuth;
    private final String hostName;
    private final Duration idleTimeout;
    private final Duration sessionDeadline;

    EsmtpSockets(SSLContext tls, boolean allowInsecureAuth, String hostName, Duration idleTimeout,
                 Duration sessionDeadline) {
        this.tls = tls;
        this.allowInsecureAuth = allowInsecureAuth;
        this.hostName = hostName;
        this.idleTimeout = idleTimeout;
        this.sessionDeadline = sessionDeadline;
    }

    @Override
    public ServerSocket createServerSocket() throws IOException {
        return new ServerSocket() {
            @Override
            public Socket accept() throws IOException {
                PlainSocket socket = new PlainSocket();
                implAccept(socket);
                socket.deadline = System.nanoTime() + sessionDeadline.toNanos();
                // Replies go out line by line (a multi-line EHLO reply in several writes): with
                // Nagle's algorithm each later line waits for the client's delayed ACK, ~40 ms.
                socket.setTcpNoDelay(true);
                return socket;
            }
        };
    }

    @Override
    public SSLSocket createSSLSocket(Socket socket) throws IOException {
        PlainSocket plain = (PlainSocket) socket;           // every connection is accepted by our server socket
        plain.tlsStarting = true;
        SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(socket,
                socket.getInetAddress().getHostAddress(), socket.getPort(), true);
        secure.setUseClientMode(false);
        return new FilteredSslSocket(secure, plain,
                new EsmtpReplies(secure.getOutputStream(), true, allowInsecureAuth, hostName, plain::timeoutReply));
    }

    /**
     * Ends a session's reading from another thread (the drain at shutdown): its blocked read, in
     * clear or in TLS, sees the end of the input, and the session closes itself on its own
     * thread. Closing a TLS socket from another thread instead would wait for the blocked read.
     */
    static void hangUp(Socket socket) throws IOException {
        PlainSocket connection = socket instanceof FilteredSslSocket tls ? tls.connection : (PlainSocket) socket;
        connection.hungUp = true;
        connection.shutdownInput();
    }

    /**
     * An accepted connection whose replies are completed until STARTTLS hands it to TLS, and
     * whose reads keep to its deadline.
     */
    private final class PlainSocket extends Socket {
        private volatile boolean tlsStarting;
        private volatile long deadline;
        private volatile boolean hungUp;
        /** Whether the last read waited until the deadline rather than for the idle timeout. */
        private volatile boolean readUntilDeadline;
        private OutputStream filtered;
        private InputStream limited;

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (tlsStarting) {
                return super.getOutputStream();
            }
            if (filtered == null) {
                filtered = new EsmtpReplies(super.getOutputStream(), false, allowInsecureAuth, hostName,
                        this::timeoutReply);
            }
            return filtered;
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (tlsStarting) {
                return super.getInputStream();
            }
            if (limited == null) {
                limited = new DeadlineInput(super.getInputStream(), this, this);
            }
            return limited;
        }

        /** The SO_TIMEOUT for the next read: the idle timeout, or less when the deadline is nearer. */
        int nextReadTimeout() throws SocketTimeoutException {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException("session deadline reached");
            }
            long idle = idleTimeout.toMillis();
            readUntilDeadline = idle <= 0 || left <= idle;
            return (int) Math.min(Integer.MAX_VALUE, idle > 0 ? Math.min(idle, left) : left);
        }

        /** SubEthaSMTP's reply to a read that timed out, said precisely: which limit, how long. */
        String timeoutReply() {
            String client = getInetAddress().getHostAddress();
            // A read timed out at the deadline may wake a hair before it (millisecond timeouts).
            if (readUntilDeadline || deadline - System.nanoTime() <= 0) {
                log.info("SMTP session from {} closed: relay.smtp.session-deadline ({}) reached", client,
                        text(sessionDeadline));
                return "421 4.4.2 Session deadline of " + text(sessionDeadline)
                        + " reached (relay.smtp.session-deadline): closing the connection; reconnect to go on";
            }
            log.info("SMTP session from {} closed: idle for {}", client, text(idleTimeout));
            return "421 4.4.2 Idle for " + text(idleTimeout)
                    + " (relay.smtp.idle-timeout): closing the connection";
        }
    }

    /** A duration as the settings write it: 10m, 30s, 1500ms. */
    static String text(Duration duration) {
        for (ChronoUnit unit : new ChronoUnit[] {ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS}) {
            if (!duration.isZero() && duration.toMillis() % unit.getDuration().toMillis() == 0) {
                return DurationStyle.SIMPLE.print(duration, unit);
            }
        }
        return DurationStyle.SIMPLE.print(duration, ChronoUnit.MILLIS);
    }

    /** Reads that wait no longer than the connection's deadline allows (see {@link PlainSocket#nextReadTimeout}). */
    private static final class DeadlineInput extends FilterInputStream {
        private final PlainSocket connection;
        private final Socket reading;

        DeadlineInput(InputStream in, PlainSocket connection, Socket reading) {
            super(in);
            this.connection = connection;
            this.reading = reading;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int read = read(one, 0, 1);
            return read < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            if (connection.hungUp) {
                return -1;
            }
            try {
                reading.setSoTimeout(connection.nextReadTimeout());
                return super.read(bytes, offset, length);
            } catch (IOException e) {
                if (connection.hungUp) {
                    return -1;                          // whatever the TLS layer makes of the hang-up
                }
                throw e;
            }
        }
    }

    /** The TLS side of a connection: everything goes to the real TLS socket, replies through the filter. */
    private static final class FilteredSslSocket extends SSLSocket {
        private final SSLSocket delegate;
        private final PlainSocket connection;
        private final OutputStream replies;
        private InputStream limited;

        FilteredSslSocket(SSLSocket delegate, PlainSocket connection, OutputStream replies) {
            this.delegate = delegate;
            this.connection = connection;
            this.replies = replies;
        }

        @Override public OutputStream getOutputStream() { return replies; }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (limited == null) {
                limited = new DeadlineInput(delegate.getInputStream(), connection, delegate);
            }
            return limited;
        }

        @Override public void startHandshake() throws IOException { delegate.startHandshake(); }
        @Override public SSLSession getSession() { return delegate.getSession(); }
        @Override public void close() throws IOException { delegate.close(); }
        @Override public boolean isClosed() { return delegate.isClosed(); }
        @Override public boolean isConnected() { return delegate.isConnected(); }
        @Override public InetAddress getInetAddress() { return delegate.getInetAddress(); }
        @Override public InetAddress getLocalAddress() { return delegate.getLocalAddress(); }
        @Override public int getPort() { return delegate.getPort(); }
        @Override public int getLocalPort() { return delegate.getLocalPort(); }
        @Override public SocketAddress getRemoteSocketAddress() { return delegate.getRemoteSocketAddress(); }
        @Override public SocketAddress getLocalSocketAddress() { return delegate.getLocalSocketAddress(); }
        @Override public void setSoTimeout(int timeout) throws SocketException { delegate.setSoTimeout(timeout); }
        @Override public int getSoTimeout() throws SocketException { return delegate.getSoTimeout(); }
        @Override public void shutdownInput() throws IOException { delegate.shutdownInput(); }
        @Override public void shutdownOutput() throws IOException { delegate.shutdownOutput(); }
        @Override public boolean isInputShutdown() { return delegate.isInputShutdown(); }
        @Override public boolean isOutputShutdown() { return delegate.isOutputShutdown(); }
        @Override public String[] getSupportedCipherSuites() { return delegate.getSupportedCipherSuites(); }
        @Override public String[] getEnabledCipherSuites() { return delegate.getEnabledCipherSuites(); }
        @Override public void setEnabledCipherSuites(String[] suites) { delegate.setEnabledCipherSuites(suites); }
        @Override public String[] getSupportedProtocols() { return delegate.getSupportedProtocols(); }
        @Override public String[] getEnabledProtocols() { return delegate.getEnabledProtocols(); }
        @Override public void setEnabledProtocols(String[] protocols) { delegate.setEnabledProtocols(protocols); }
        @Override public void addHandshakeCompletedListener(HandshakeCompletedListener l) { delegate.addHandshakeCompletedListener(l); }
        @Override public void removeHandshakeCompletedListener(HandshakeCompletedListener l) { delegate.removeHandshakeCompletedListener(l); }
        @Override public void setUseClientMode(boolean mode) { delegate.setUseClientMode(mode); }
        @Override public boolean getUseClientMode() { return delegate.getUseClientMode(); }
        @Override public void setNeedClientAuth(boolean need) { delegate.setNeedClientAuth(need); }
        @Override public boolean getNeedClientAuth() { return delegate.getNeedClientAuth(); }
        @Override public void setWantClientAuth(boolean want) { delegate.setWantClientAuth(want); }
        @Override public boolean getWantClientAuth() { return delegate.getWantClientAuth(); }
        @Override public void setEnableSessionCreation(boolean flag) { delegate.setEnableSessionCreation(flag); }
        @Override public boolean getEnableSessionCreation() { return delegate.getEnableSessionCreation(); }
        @Override public SSLSession getHandshakeSession() { return delegate.getHandshakeSession(); }
        @Override public String getApplicationProtocol() { return delegate.getApplicationProtocol(); }
        @Override public String getHandshakeApplicationProtocol() { return delegate.getHandshakeApplicationProtocol(); }
    }
}
