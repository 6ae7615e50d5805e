package com.mailrelay.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The relay's upstream: an SMTP server on loopback (SubEthaSMTP) that takes every message and
 * notes when it arrived, in the phase that is running: by the marker in its Subject, or by the
 * sequence number before its recipient's address (smtp-source's {@code -N}). A message whose
 * Subject is {@link #DEFERRED_SUBJECT} is answered 451 after DATA (a deferral: the relay keeps it
 * and tries again later), and counted.
 *
 * <p>Its CPU time is counted apart from the rest of the benchmark's JVM: every session runs on a
 * thread of its own executor, which adds up the CPU time each thread spent in sessions (those that
 * ended, and those still open), plus the acceptor thread's.
 *
 * <p>Postfix's C {@code smtp-sink} would cost less, but it can neither tell when each message
 * arrived (short of dumping every message to a file for the benchmark to parse) nor defer some
 * messages by their content; this sink does both and reports what it costs.
 */
final class Sink implements AutoCloseable {

    static final String DEFERRED_SUBJECT = "bench deferred";
    /** Subject of smtp-source phases: "bench PP-source", the sequence number is in the recipient. */
    static final String SOURCE_SUFFIX = "-source";
    private static final byte[] SUBJECT = ("\nSubject: " + Phase.SUBJECT_PREFIX).getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEFERRED = DEFERRED_SUBJECT.substring(Phase.SUBJECT_PREFIX.length())
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SOURCE = SOURCE_SUFFIX.getBytes(StandardCharsets.US_ASCII);
    private static final String ACCEPTOR = "bench-sink-acceptor";

    private final SMTPServer server;
    private final CpuAccountingExecutor sessions = new CpuAccountingExecutor();
    private volatile Phase current;
    /** Messages of no running phase (late ones of an earlier phase, or unknown subjects). */
    final AtomicLong strays = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    /** Messages answered 451 (their Subject asks for it). */
    final AtomicLong deferred = new AtomicLong();

    Sink() {
        server = SMTPServer.port(0).bindAddress(InetAddress.getLoopbackAddress())
                .maxConnections(2000)
                .executorService(sessions)
                .serverThreadName(ACCEPTOR)
                .messageHandlerFactory(context -> new MessageHandler() {
                    private String recipient;
                    @Override public void from(String from) { }
                    @Override public void recipient(String address) {
                        recipient = address;
                    }
                    @Override public String data(InputStream data) throws IOException, RejectException {
                        if (!arrived(data.readAllBytes(), recipient, System.nanoTime())) {
                            throw new RejectException(451, "4.3.0 deferred by the benchmark's sink, as asked");
                        }
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

    /** CPU seconds the sink has spent so far: its sessions' threads and its acceptor. */
    double cpuSeconds() {
        return sessions.cpuNanos() / 1e9 + acceptorCpuNanos() / 1e9;
    }

    private static long acceptorCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith(ACCEPTOR)) {
                total += Math.max(0, threads.getThreadCpuTime(thread.getId()));
            }
        }
        return total;
    }

    /** Notes a message's arrival; false when it is to be deferred (answered 451). */
    private boolean arrived(byte[] message, String recipient, long nanos) {
        received.incrementAndGet();
        Phase phase = current;
        int at = indexOf(message, SUBJECT);
        if (at >= 0 && startsWith(message, at + SUBJECT.length, DEFERRED)) {
            deferred.incrementAndGet();
            return false;
        }
        if (phase == null || at < 0 || !phase.marked) {
            strays.incrementAndGet();
            return true;
        }
        int start = at + SUBJECT.length;
        int phaseId = number(message, start, 2);
        if (phaseId != phase.id || start + 2 >= message.length || message[start + 2] != '-') {
            strays.incrementAndGet();
            return true;
        }
        int seq;
        if (startsWith(message, start + 2, SOURCE)) {
            seq = recipientSequence(recipient) - 1;         // smtp-source -N counts from 1
        } else {
            seq = number(message, start + 3, 7);
        }
        if (seq < 0) {
            strays.incrementAndGet();
            return true;
        }
        phase.markDelivered(seq, nanos);
        return true;
    }

    /** The number smtp-source's -N puts before the recipient's local part ("<12sink@...>": 12), or -1. */
    static int recipientSequence(String recipient) {
        if (recipient == null) {
            return -1;
        }
        int i = recipient.startsWith("<") ? 1 : 0;
        int value = 0;
        int digits = 0;
        while (i < recipient.length() && Character.isDigit(recipient.charAt(i)) && digits < 9) {
            value = value * 10 + recipient.charAt(i++) - '0';
            digits++;
        }
        return digits == 0 ? -1 : value;
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

    private static boolean startsWith(byte[] bytes, int from, byte[] expected) {
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
        sessions.shutdownNow();
    }

    /**
     * Runs each session on a pooled thread and adds up the CPU time threads spend in sessions:
     * those that ended, and so far those that run.
     */
    private static final class CpuAccountingExecutor extends AbstractExecutorService {

        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        private final AtomicInteger count = new AtomicInteger();
        private final ExecutorService delegate = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "bench-sink-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        private final AtomicLong finishedNanos = new AtomicLong();
        /** Running sessions: their thread, and its CPU time when the session started. */
        private final Map<Thread, Long> running = new ConcurrentHashMap<>();

        long cpuNanos() {
            long total = finishedNanos.get();
            for (Map.Entry<Thread, Long> entry : running.entrySet()) {
                long now = threads.getThreadCpuTime(entry.getKey().getId());
                if (now >= 0) {
                    total += Math.max(0, now - entry.getValue());
                }
            }
            return total;
        }

        @Override
        public void execute(Runnable command) {
            delegate.execute(() -> {
                Thread thread = Thread.currentThread();
                long start = threads.getCurrentThreadCpuTime();
                running.put(thread, start);
                try {
                    command.run();
                } finally {
                    finishedNanos.addAndGet(threads.getCurrentThreadCpuTime() - start);
                    running.remove(thread);
                }
            });
        }

        @Override public void shutdown() { delegate.shutdown(); }
        @Override public List<Runnable> shutdownNow() { return delegate.shutdownNow(); }
        @Override public boolean isShutdown() { return delegate.isShutdown(); }
        @Override public boolean isTerminated() { return delegate.isTerminated(); }
        @Override public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return delegate.awaitTermination(timeout, unit);
        }
    }
}
