package com.mailrelay.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * An open-loop HTTP load: request {@code i} is due at start + i / rate whatever the answers do, and
 * its latency counts from that scheduled time, so a stalled server shows as latency instead of
 * slowing the sender (no coordinated omission). Debian has wrk but not wrk2 (wrk's open-loop fork),
 * so this is the benchmark's own, made cheap: one thread, non-blocking sockets on one selector,
 * HTTP/1.1 keep-alive, one request in flight per connection, the request bytes built per request by
 * copying a template, and only the status line and Content-Length of each answer parsed. A due
 * request goes out on an idle connection; when none is idle a new one is opened, up to
 * {@code maxConnections}; beyond that due requests wait in order (and their wait counts as
 * latency). The thread's own CPU time is added to the phase's load CPU.
 */
final class OpenLoop {

    private static final int READ_BUFFER = 16 * 1024;

    private final Phase phase;
    private final InetSocketAddress address;
    private final int rate;
    private final int maxConnections;
    private final IntFunction<byte[]> requests;
    private final Selector selector;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private final ArrayDeque<Integer> waiting = new ArrayDeque<>();
    private int open;
    private int inFlight;

    private final class Connection {
        final SocketChannel channel;
        final SelectionKey key;
        ByteBuffer out;
        final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER);
        int seq = -1;
        boolean connected;

        Connection(SocketChannel channel) throws IOException {
            this.channel = channel;
            this.key = channel.register(selector, 0, this);
        }
    }

    private OpenLoop(Phase phase, int port, int rate, int maxConnections, IntFunction<byte[]> requests)
            throws IOException {
        this.phase = phase;
        this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        this.rate = rate;
        this.maxConnections = maxConnections;
        this.requests = requests;
        this.selector = Selector.open();
    }

    /** An HTTP/1.1 POST of {@code body} to {@code path}, as bytes. */
    static byte[] post(int port, String path, String apiKey, byte[] body) {
        byte[] head = String.format(Locale.ROOT, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                        + "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, port, apiKey, body.length)
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    /**
     * Sends {@code phase.total} requests at {@code rate} per second to the port, {@code warm}
     * connections opened before the clock starts; returns when every request was answered, or at
     * the phase's deadline.
     */
    static void run(Phase phase, int port, int rate, int warm, int maxConnections, IntFunction<byte[]> requests,
                    Runnable begin) throws IOException {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        OpenLoop load = new OpenLoop(phase, port, rate, maxConnections, requests);
        try {
            for (int i = 0; i < Math.min(warm, maxConnections); i++) {
                SocketChannel channel = SocketChannel.open(load.address);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.configureBlocking(false);
                Connection connection = load.new Connection(channel);
                connection.connected = true;
                load.idle.add(connection);
                load.open++;
            }
            begin.run();
            load.loop();
        } finally {
            load.selector.keys().forEach(key -> {
                try {
                    key.channel().close();
                } catch (IOException e) {
                    // closing anyway
                }
            });
            load.selector.close();
            phase.loadCpuNanos.addAndGet(threads.getCurrentThreadCpuTime() - cpu);
        }
    }

    private void loop() throws IOException {
        long start = phase.startNanos;
        double period = 1e9 / rate;
        int next = 0;
        while (next < phase.total || !waiting.isEmpty() || inFlight > 0) {
            if (phase.pastDeadline()) {
                int unanswered = inFlight + waiting.size() + (phase.total - next);
                phase.markError(unanswered + " requests unanswered or not sent at the deadline (--phase-timeout)");
                phase.incomplete = unanswered + " of " + phase.total + " requests unanswered or not sent by the deadline";
                return;
            }
            long now = System.nanoTime();
            while (next < phase.total && start + Math.round(next * period) <= now) {
                phase.markSent(next, start + Math.round(next * period));
                waiting.add(next++);
            }
            while (!waiting.isEmpty()) {
                Connection connection = idle.poll();
                if (connection == null) {
                    if (open >= maxConnections) {
                        break;
                    }
                    connection = connect();
                    if (connection == null) {
                        continue;
                    }
                }
                assign(connection, waiting.poll());
            }
            long wait = next < phase.total ? start + Math.round(next * period) - System.nanoTime()
                    : TimeUnit.MILLISECONDS.toNanos(50);
            if (wait >= TimeUnit.MILLISECONDS.toNanos(1)) {
                selector.select(TimeUnit.NANOSECONDS.toMillis(wait));
            } else {
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                selector.selectNow();
            }
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                Connection connection = (Connection) key.attachment();
                try {
                    if (key.isValid() && key.isConnectable()) {
                        connection.channel.finishConnect();
                        connection.connected = true;
                        send(connection);
                    } else if (key.isValid() && key.isWritable()) {
                        send(connection);
                    } else if (key.isValid() && key.isReadable()) {
                        read(connection);
                    }
                } catch (IOException e) {
                    broken(connection, e.toString());
                }
            }
        }
    }

    private Connection connect() {
        try {
            SocketChannel channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Connection connection = new Connection(channel);
            open++;
            if (channel.connect(address)) {
                connection.connected = true;
            } else {
                connection.key.interestOps(SelectionKey.OP_CONNECT);
            }
            return connection;
        } catch (IOException e) {
            Integer seq = waiting.poll();
            phase.markError("connect: " + e);
            if (seq == null) {
                return null;
            }
            return null;
        }
    }

    private void assign(Connection connection, int seq) {
        connection.seq = seq;
        connection.out = ByteBuffer.wrap(requests.apply(seq));
        connection.in.clear();
        inFlight++;
        if (connection.connected) {
            try {
                send(connection);
            } catch (IOException e) {
                broken(connection, e.toString());
            }
        }
    }

    private void send(Connection connection) throws IOException {
        if (connection.seq < 0) {
            connection.key.interestOps(0);
            idle.add(connection);
            return;
        }
        connection.channel.write(connection.out);
        connection.key.interestOps(connection.out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private void read(Connection connection) throws IOException {
        ByteBuffer in = connection.in;
        if (!in.hasRemaining()) {
            throw new IOException("answer longer than " + READ_BUFFER + " bytes");
        }
        if (connection.channel.read(in) < 0) {
            throw new IOException("connection closed by the server");
        }
        byte[] bytes = in.array();
        int length = in.position();
        int headerEnd = indexOf(bytes, length);
        if (headerEnd < 0) {
            return;
        }
        String head = new String(bytes, 0, headerEnd, StandardCharsets.ISO_8859_1);
        int contentLength = 0;
        boolean close = false;
        boolean chunked = false;
        for (String line : head.split("\r\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                contentLength = Integer.parseInt(lower.substring(15).trim());
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        if (chunked) {
            // The answer ends with the last chunk, "0" CRLF CRLF (no trailers from the relay).
            if (!endsWithLastChunk(bytes, headerEnd + 4, length)) {
                return;
            }
            contentLength = length - headerEnd - 4;
        } else if (length < headerEnd + 4 + contentLength) {
            return;
        }
        int status = head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : -1;
        int seq = connection.seq;
        connection.seq = -1;
        inFlight--;
        if (status == 202) {
            phase.markAccepted(seq, System.nanoTime());
        } else {
            String body = new String(bytes, headerEnd + 4, Math.min(contentLength, 200), StandardCharsets.UTF_8);
            phase.markError("REST answered " + status + ": " + body);
        }
        if (close) {
            connection.key.cancel();
            connection.channel.close();
            open--;
        } else {
            connection.in.clear();
            connection.key.interestOps(0);
            idle.add(connection);
        }
    }

    private void broken(Connection connection, String why) {
        if (connection.seq >= 0) {
            phase.markError(why);
            inFlight--;
            connection.seq = -1;
        }
        connection.key.cancel();
        try {
            connection.channel.close();
        } catch (IOException e) {
            // closed anyway
        }
        idle.remove(connection);
        open--;
    }

    private static boolean endsWithLastChunk(byte[] bytes, int bodyStart, int length) {
        byte[] last = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        if (length - bodyStart < last.length) {
            return false;
        }
        for (int i = 0; i < last.length; i++) {
            if (bytes[length - last.length + i] != last[i]) {
                return false;
            }
        }
        return length - bodyStart == last.length || bytes[length - last.length - 1] == '\n';
    }

    /** Where the header section ends (the index of its CRLFCRLF), or -1. */
    private static int indexOf(byte[] bytes, int length) {
        for (int i = 0; i + 3 < length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
