package com.mailrelay.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An upstream SMTP server whose behaviour a test switches while the relay sends to it: it takes
 * mail ({@link Mode#ACCEPT}), answers every transaction 451 ({@link Mode#TEMPFAIL}), or accepts
 * connections and never says a word ({@link Mode#SILENT}, a hung server: no greeting, no reply).
 * It counts the copies it took of each message, by the relay id in their Message-ID
 * ({@code <id@domain>}), so that a test can tell delivered from duplicated.
 */
public final class FaultUpstream implements AutoCloseable {

    /**
     * ACCEPT takes mail; TEMPFAIL answers every transaction 451; REFUSE_RECIPIENTS answers each RCPT TO
     * with {@link #refusal(String)} (a multi-line reply if it has several lines); SILENT never speaks.
     */
    public enum Mode { ACCEPT, TEMPFAIL, REFUSE_RECIPIENTS, SILENT }

    private static final Pattern MESSAGE_ID = Pattern.compile("(?im)^Message-ID:\\s*<([^@>]+)@");

    private final ServerSocket socket;
    private final ExecutorService sessions = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "fault-upstream-session");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, AtomicInteger> copies = new ConcurrentHashMap<>();
    private volatile Mode mode = Mode.ACCEPT;
    private volatile String refusal = "451 4.3.0 try again later";

    public FaultUpstream() {
        try {
            socket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::acceptLoop, "fault-upstream");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    public void mode(Mode mode) {
        this.mode = mode;
    }

    /** The reply to RCPT TO in mode REFUSE_RECIPIENTS, its lines separated by CRLF ("451-...\r\n451 ..."). */
    public void refusal(String reply) {
        this.refusal = reply;
    }

    /** Copies taken of each message, by relay id. */
    public Map<String, Integer> copies() {
        Map<String, Integer> snapshot = new ConcurrentHashMap<>();
        copies.forEach((id, count) -> snapshot.put(id, count.get()));
        return snapshot;
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                sessions.execute(() -> session(client));
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void session(Socket client) {
        try (client) {
            client.setSoTimeout(60_000);
            if (mode == Mode.SILENT) {
                // Holds the connection without a greeting until the client gives up (it reads nothing
                // from us, so its read times out) or the test ends.
                client.getInputStream().transferTo(OutputStream.nullOutputStream());
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                    StandardCharsets.ISO_8859_1));
            OutputStream out = client.getOutputStream();
            reply(out, "220 fault-upstream ESMTP");
            String line;
            while ((line = in.readLine()) != null) {
                String command = line.toUpperCase(Locale.ROOT);
                if (command.startsWith("EHLO")) {
                    reply(out, "250-fault-upstream\r\n250-8BITMIME\r\n250 PIPELINING");
                } else if (command.startsWith("HELO")) {
                    reply(out, "250 fault-upstream");
                } else if (command.startsWith("MAIL FROM")) {
                    reply(out, mode == Mode.TEMPFAIL ? "451 4.3.0 try again later" : "250 2.1.0 ok");
                } else if (command.startsWith("RCPT TO")) {
                    reply(out, mode == Mode.TEMPFAIL ? "451 4.3.0 try again later"
                            : mode == Mode.REFUSE_RECIPIENTS ? refusal : "250 2.1.5 ok");
                } else if (command.equals("DATA")) {
                    reply(out, "354 go ahead");
                    StringBuilder data = new StringBuilder();
                    while ((line = in.readLine()) != null && !line.equals(".")) {
                        data.append(line).append('\n');
                    }
                    if (mode == Mode.TEMPFAIL) {
                        reply(out, "451 4.3.0 try again later");
                        continue;
                    }
                    Matcher id = MESSAGE_ID.matcher(data);
                    if (id.find()) {
                        copies.computeIfAbsent(id.group(1), k -> new AtomicInteger()).incrementAndGet();
                    }
                    reply(out, "250 2.0.0 queued");
                } else if (command.startsWith("RSET") || command.startsWith("NOOP")) {
                    reply(out, "250 2.0.0 ok");
                } else if (command.startsWith("QUIT")) {
                    reply(out, "221 2.0.0 bye");
                    return;
                } else {
                    reply(out, "502 5.5.1 unknown command");
                }
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sessions.shutdownNow();
    }
}
