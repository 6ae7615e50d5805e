package com.mailrelay.support;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A raw SMTP client for the protocol tests: writes exactly the lines a test gives and returns each
 * reply whole (all lines of a multi-line reply), so that codes and texts can be asserted.
 */
public final class SmtpConversation implements Closeable {

    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private final String greeting;

    private SmtpConversation(Socket socket) throws IOException {
        use(socket);
        this.greeting = readReply();
    }

    /** Connects from 127.0.0.1 (not a trusted network in the test profile). */
    public static SmtpConversation open(int port) {
        return open(port, "127.0.0.1");
    }

    /** Connects from the given loopback source address (127.0.0.2 is trusted in the test profile). */
    public static SmtpConversation open(int port, String sourceAddress) {
        try {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(InetAddress.getByName(sourceAddress), 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            socket.setSoTimeout(30_000);
            return new SmtpConversation(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String greeting() {
        return greeting;
    }

    /** Sends one command line and returns its reply. */
    public String send(String line) {
        write(line + "\r\n");
        return readReply();
    }

    /**
     * One transaction: MAIL FROM, RCPT TO, DATA and {@code data} (CRLF line ends, without the final
     * dot). Returns the reply to the data, or the first reply that refused the transaction.
     */
    public String submit(String from, String to, String data) {
        for (String command : new String[] {"MAIL FROM:<" + from + ">", "RCPT TO:<" + to + ">"}) {
            String reply = send(command);
            if (!reply.startsWith("250")) {
                return reply;
            }
        }
        String go = send("DATA");
        if (!go.startsWith("354")) {
            return go;
        }
        write(data + ".\r\n");
        return readReply();
    }

    /** Sends raw bytes (several pipelined commands, or message data) without reading. */
    public void write(String text) {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    public void write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one reply; multi-line replies come back joined with "\n". Null when the server hung up. */
    public String readReply() {
        try {
            List<String> lines = new ArrayList<>();
            String line;
            do {
                line = in.readLine();
                if (line == null) {
                    return lines.isEmpty() ? null : String.join("\n", lines);
                }
                lines.add(line);
            } while (line.length() > 3 && line.charAt(3) == '-');
            return String.join("\n", lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** EHLO, STARTTLS, TLS handshake (trusting the relay's self-signed certificate), EHLO again. */
    public String startTls() {
        send("EHLO client.test");
        String reply = send("STARTTLS");
        if (!reply.startsWith("220")) {
            throw new IllegalStateException("STARTTLS refused: " + reply);
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
            SSLSocket tls = (SSLSocket) context.getSocketFactory()
                    .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            use(tls);
        } catch (Exception e) {
            throw new IllegalStateException("TLS handshake failed", e);
        }
        return send("EHLO client.test");
    }

    /** STARTTLS, then AUTH PLAIN; returns the AUTH reply. */
    public String login(String user, String password) {
        startTls();
        return authPlain(user, password);
    }

    public String authPlain(String user, String password) {
        String token = Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
        return send("AUTH PLAIN " + token);
    }

    private void use(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
