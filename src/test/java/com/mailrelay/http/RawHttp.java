package com.mailrelay.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP/1.1 over a plain socket, for what java.net.http cannot do: send a request head and then
 * only part of its body (or trickle it), and read the answer while the body is still unsent.
 */
final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    /** Body bytes written so far (chunk payloads, or raw bytes for a declared length). */
    final AtomicLong sent = new AtomicLong();

    RawHttp(int port, Duration readTimeout) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** Writes the request line and headers (CRLF-separated, without the blank line), then the blank line. */
    void head(String requestLine, String... headers) throws IOException {
        StringBuilder head = new StringBuilder(requestLine).append("\r\n").append("Host: 127.0.0.1\r\n");
        for (String header : headers) {
            head.append(header).append("\r\n");
        }
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        sent.addAndGet(bytes.length);
    }

    void chunk(byte[] payload) throws IOException {
        out.write((Integer.toHexString(payload.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(payload);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        sent.addAndGet(payload.length);
    }

    void lastChunk() throws IOException {
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /**
     * Writes {@code total} bytes of JSON-ish filler as chunks in the background, stopping at the
     * first write the server refuses (it answered and closed); completes with the bytes sent.
     */
    CompletableFuture<Long> streamChunks(long total, int chunkSize, boolean finish) {
        return streamChunks(total, chunkSize, finish, java.util.concurrent.ForkJoinPool.commonPool());
    }

    CompletableFuture<Long> streamChunks(long total, int chunkSize, boolean finish, java.util.concurrent.Executor executor) {
        return CompletableFuture.supplyAsync(() -> {
            byte[] payload = new byte[chunkSize];
            Arrays.fill(payload, (byte) 'x');
            try {
                while (sent.get() < total) {
                    chunk(payload);
                }
                if (finish) {
                    lastChunk();
                }
            } catch (IOException e) {
                // the server stopped reading: what the test is about
            }
            return sent.get();
        }, executor);
    }

    /** The status code and body of the answer (read up to the declared length or the connection's end). */
    Response response() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] so = head.toByteArray();
            int n = so.length;
            if (n >= 4 && so[n - 4] == '\r' && so[n - 3] == '\n' && so[n - 2] == '\r' && so[n - 1] == '\n') {
                break;
            }
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        if (text.isEmpty()) {
            throw new IOException("the connection closed without an answer");
        }
        int status = Integer.parseInt(text.substring(9, 12));
        long sentAtAnswer = sent.get();
        String body = "";
        for (String line : text.split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                body = new String(in.readNBytes(Integer.parseInt(line.substring(15).trim())), StandardCharsets.UTF_8);
            } else if (line.regionMatches(true, 0, "Transfer-Encoding: chunked", 0, 26)) {
                body = readChunked();
            }
        }
        return new Response(status, text, body, sentAtAnswer);
    }

    private String readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            String size = line();
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
                line();
                break;
            }
            body.write(in.readNBytes(n));
            line();
        }
        return body.toString(StandardCharsets.UTF_8);
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    record Response(int status, String head, String body, long bodyBytesSentBeforeAnswer) {
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(60, TimeUnit.SECONDS);
    }
}
