package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;

import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.subethamail.smtp.server.SSLSocketCreator;
import org.subethamail.smtp.server.ServerSocketCreator;

/**
 * Socket plumbing that puts {@link EsmtpReplies} between SubEthaSMTP and the client, before and
 * after STARTTLS. The plain socket's stream is filtered until TLS starts; from then on the TLS
 * handshake uses its raw stream and the filter moves onto the TLS socket.
 */
final class EsmtpSockets implements ServerSocketCreator, SSLSocketCreator {

    private final SSLContext tls;
    private final boolean allowInsecureAuth;
    private final String hostName;

    EsmtpSockets(SSLContext tls, boolean allowInsecureAuth, String hostName) {
        this.tls = tls;
        this.allowInsecureAuth = allowInsecureAuth;
        this.hostName = hostName;
    }

    @Override
    public ServerSocket createServerSocket() throws IOException {
        return new ServerSocket() {
            @Override
            public Socket accept() throws IOException {
                PlainSocket socket = new PlainSocket();
                implAccept(socket);
                // Replies go out line by line (a multi-line EHLO reply in several writes): with
                // Nagle's algorithm each later line waits for the client's delayed ACK, ~40 ms.
                socket.setTcpNoDelay(true);
                return socket;
            }
        };
    }

    @Override
    public SSLSocket createSSLSocket(Socket socket) throws IOException {
        if (socket instanceof PlainSocket plain) {
            plain.tlsStarting = true;
        }
        SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(socket,
                socket.getInetAddress().getHostAddress(), socket.getPort(), true);
        secure.setUseClientMode(false);
        return new FilteredSslSocket(secure, new EsmtpReplies(secure.getOutputStream(), true, allowInsecureAuth, hostName));
    }

    /** An accepted connection whose replies are completed until STARTTLS hands it to TLS. */
    private final class PlainSocket extends Socket {
        private volatile boolean tlsStarting;
        private OutputStream filtered;

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (tlsStarting) {
                return super.getOutputStream();
            }
            if (filtered == null) {
                filtered = new EsmtpReplies(super.getOutputStream(), false, allowInsecureAuth, hostName);
            }
            return filtered;
        }
    }

    /** The TLS side of a connection: everything goes to the real TLS socket, replies through the filter. */
    private static final class FilteredSslSocket extends SSLSocket {
        private final SSLSocket delegate;
        private final OutputStream replies;

        FilteredSslSocket(SSLSocket delegate, OutputStream replies) {
            this.delegate = delegate;
            this.replies = replies;
        }

        @Override public OutputStream getOutputStream() { return replies; }
        @Override public InputStream getInputStream() throws IOException { return delegate.getInputStream(); }
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
