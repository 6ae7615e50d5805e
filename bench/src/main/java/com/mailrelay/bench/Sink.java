package com.mailrelay.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The relay's upstream: an SMTP server on loopback (SubEthaSMTP) that takes every message and
 * notes when it arrived, by the marker in its Subject, in the phase that is running.
 */
final class Sink implements AutoCloseable {

    private static final byte[] SUBJECT = ("\nSubject: " + Phase.SUBJECT_PREFIX).getBytes(StandardCharsets.US_ASCII);

    private final SMTPServer server;
    private volatile Phase current;
    /** Messages of no running phase (late ones of an earlier phase, or unknown subjects). */
    final AtomicLong strays = new AtomicLong();
    final AtomicLong received = new AtomicLong();

    Sink() {
        server = SMTPServer.port(0).bindAddress(InetAddress.getLoopbackAddress())
                .maxConnections(2000)
                .messageHandlerFactory(context -> new MessageHandler() {
                    @Override public void from(String from) { }
                    @Override public void recipient(String recipient) { }
                    @Override public String data(InputStream data) throws IOException {
                        arrived(data.readAllBytes(), System.nanoTime());
                        return null;
                    }
                    @Override public void done() { }
                }).build();
        server.start();
    }

    int port() {
        return server.getPortAllocated();
    }

    void track(Phase phase) {
        current = phase;
    }

    private void arrived(byte[] message, long nanos) {
        received.incrementAndGet();
        Phase phase = current;
        int at = indexOf(message, SUBJECT);
        if (phase == null || at < 0) {
            strays.incrementAndGet();
            return;
        }
        int start = at + SUBJECT.length;
        if (!phase.marked) {
            if (startsWith(message, start, Phase.UNMARKED_SUBJECT.substring(Phase.SUBJECT_PREFIX.length()))) {
                phase.countDelivered(nanos);
            } else {
                strays.incrementAndGet();
            }
            return;
        }
        int phaseId = number(message, start, 2);
        int seq = number(message, start + 3, 7);
        if (phaseId != phase.id || seq < 0 || start + 2 >= message.length || message[start + 2] != '-') {
            strays.incrementAndGet();
            return;
        }
        phase.markDelivered(seq, nanos);
    }

    private static int number(byte[] bytes, int from, int digits) {
        if (from + digits > bytes.length) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < from + digits; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private static boolean startsWith(byte[] bytes, int from, String text) {
        byte[] expected = text.getBytes(StandardCharsets.US_ASCII);
        if (from + expected.length > bytes.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (bytes[from + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The first occurrence of {@code needle} in the header section (before the first empty line). */
    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            if (haystack[i] == '\n' && i + 2 < haystack.length && (haystack[i + 1] == '\n'
                    || haystack[i + 1] == '\r' && haystack[i + 2] == '\n')) {
                return -1;                  // end of the header section
            }
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        server.stop();
    }
}
