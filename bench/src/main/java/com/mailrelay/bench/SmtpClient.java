package com.mailrelay.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A lean SMTP client on a plain socket: EHLO, AUTH PLAIN, then MAIL/RCPT/DATA per message with
 * bytes built beforehand, and QUIT. Every reply code is checked; an unexpected one is a
 * {@link ReplyException}. Reads and connects time out, so no conversation can hang.
 */
final class SmtpClient implements Closeable {

    static final String SENDER = "app@bench.test";
    static final String RECIPIENT = "sink@bench.test";
    private static final byte[] MAIL = ("MAIL FROM:<" + SENDER + ">\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RCPT = ("RCPT TO:<" + RECIPIENT + ">\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA = "DATA\r\n".getBytes(StandardCharsets.US_ASCII);

    /** A reply other than the one expected. */
    static final class ReplyException extends IOException {
        ReplyException(String command, String reply) {
            super(command + " answered: " + reply);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final StringBuilder line = new StringBuilder(128);

    SmtpClient(int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            in = new BufferedInputStream(socket.getInputStream(), 4096);
            out = new BufferedOutputStream(socket.getOutputStream(), 16384);
            expect("connect", 220);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    void ehlo() throws IOException {
        command("EHLO bench.test", 250);
    }

    void authPlain(String user, String password) throws IOException {
        String token = Base64.getEncoder().encodeToString(("\0" + user + "\0" + password)
                .getBytes(StandardCharsets.UTF_8));
        command("AUTH PLAIN " + token, 235);
    }

    /** One mail transaction; {@code message} ends with the terminating CRLF.CRLF. */
    void send(byte[] message) throws IOException {
        out.write(MAIL);
        out.flush();
        expect("MAIL", 250);
        out.write(RCPT);
        out.flush();
        expect("RCPT", 250);
        out.write(DATA);
        out.flush();
        expect("DATA", 354);
        out.write(message);
        out.flush();
        expect("end of DATA", 250);
    }

    void quit() throws IOException {
        out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect("QUIT", 221);
    }

    private void command(String command, int code) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect(command.startsWith("AUTH") ? "AUTH" : command, code);
    }

    /** Reads a (possibly multi-line) reply and checks its code. */
    private void expect(String command, int code) throws IOException {
        String last;
        do {
            last = readLine();
        } while (last.length() > 3 && last.charAt(3) == '-');
        if (last.length() < 3 || !last.startsWith(Integer.toString(code))) {
            throw new ReplyException(command, last);
        }
    }

    private String readLine() throws IOException {
        line.setLength(0);
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed by the server" + (line.length() > 0 ? " after: " + line : ""));
            }
            if (c != '\r' && line.length() < 1000) {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
