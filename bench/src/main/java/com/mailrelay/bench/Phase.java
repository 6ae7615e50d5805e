package com.mailrelay.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One load phase: which messages were sent, when each was accepted and when it reached the sink.
 * Every message of a phase carries the marker {@code bench PP-SSSSSSS} (phase id, sequence number)
 * in its Subject (the benchmark's own clients and wrk) or the sequence number smtp-source puts
 * before the recipient's address ({@code -N}: {@code <seq+1>sink@bench.test}), so the sink can time
 * it end to end and tell a late message of an earlier phase from one of this phase. Messages
 * of a phase that is not tracked ({@link #marked} false: the backlog's seeding) count as strays.
 *
 * <p>Where the load generator does not report each accept (wrk, smtp-source), the accept time of
 * each message is taken from the relay's database afterwards ({@code messages.queued_at}, set just
 * before the commit that the reply waits for): {@link #markAcceptedAtWall}.
 */
final class Phase {

    static final String SUBJECT_PREFIX = "bench ";
    static final int MARKER_LENGTH = 10;                // "PP-SSSSSSS"

    final int id;
    final String name;
    final int total;
    /** Sequence numbers that may arrive: {@code total}, or more where a generator overshoots (wrk's last requests in flight). */
    final int capacity;
    final boolean marked;
    final long deadlineNanos;

    /** When each message was sent (or, at a fixed rate, scheduled): accept latency starts here. */
    final AtomicLongArray sentAt;
    /** When its 250/202 reply arrived (0: not accepted). */
    final AtomicLongArray acceptedAt;
    /** When it arrived at the sink (0: not yet). */
    final AtomicLongArray deliveredAt;

    final AtomicInteger sent = new AtomicInteger();
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();
    final AtomicInteger delivered = new AtomicInteger();
    final AtomicInteger duplicates = new AtomicInteger();
    final AtomicLong lastAccepted = new AtomicLong();
    final AtomicLong lastDelivered = new AtomicLong();
    final Queue<String> errorSamples = new ConcurrentLinkedQueue<>();
    /** CPU nanoseconds of the load generator (its process, or the benchmark's own threads that sent the load). */
    final AtomicLong loadCpuNanos = new AtomicLong();
    /** Accept latency percentiles (p50, p95, p99, in microseconds) as an external generator reported them (wrk), or null. */
    volatile long[] reportedAcceptMicros;
    /** Accept latencies are known for each message (the benchmark's own clients), not only from the generator's report. */
    volatile boolean perMessageAcceptLatency = true;
    volatile long startNanos;
    volatile long sendsEndNanos;
    /** Set when the phase's messages were not all sent, or not all delivered, by the deadline. */
    volatile String incomplete;

    Phase(int id, String name, int total, boolean marked, long deadlineNanos) {
        this(id, name, total, total, marked, deadlineNanos);
    }

    Phase(int id, String name, int total, int capacity, boolean marked, long deadlineNanos) {
        if (id < 0 || id > 99 || capacity > 9_999_999 || capacity < total) {
            throw new IllegalArgumentException("at most 99 phases of at most 9,999,999 messages");
        }
        this.id = id;
        this.name = name;
        this.total = total;
        this.capacity = capacity;
        this.marked = marked;
        this.deadlineNanos = deadlineNanos;
        int slots = marked ? capacity : 0;
        this.sentAt = new AtomicLongArray(slots);
        this.acceptedAt = new AtomicLongArray(slots);
        this.deliveredAt = new AtomicLongArray(slots);
    }

    boolean pastDeadline() {
        return System.nanoTime() - deadlineNanos > 0;
    }

    /** Writes this phase's marker for message {@code seq} into {@code target} at {@code offset}. */
    void writeMarker(byte[] target, int offset, int seq) {
        byte[] marker = String.format("%02d-%07d", id, seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, target, offset, MARKER_LENGTH);
    }

    void markSent(int seq, long nanos) {
        sentAt.set(seq, nanos);
        sent.incrementAndGet();
    }

    void markAccepted(int seq, long nanos) {
        acceptedAt.set(seq, nanos);
        accepted.incrementAndGet();
        lastAccepted.accumulateAndGet(nanos, Math::max);
    }

    /**
     * The accept time of message {@code seq} as the relay recorded it (wall clock, microseconds
     * since the epoch), for the accept→delivered latency; the accept itself is counted elsewhere.
     */
    void markAcceptedAtWall(int seq, long wallMicros) {
        if (seq >= 0 && seq < acceptedAt.length()) {
            acceptedAt.set(seq, Clock.nanosOfWallMicros(wallMicros));
        }
    }

    void markError(String what) {
        errors.incrementAndGet();
        if (errorSamples.size() < 5) {
            errorSamples.add(what);
        }
    }

    /** Called by the sink for a marked message of this phase. */
    void markDelivered(int seq, long nanos) {
        if (seq < 0 || seq >= capacity) {
            return;
        }
        if (deliveredAt.compareAndSet(seq, 0, nanos)) {
            delivered.incrementAndGet();
            lastDelivered.accumulateAndGet(nanos, Math::max);
        } else {
            duplicates.incrementAndGet();
        }
    }

    /** Accept latencies in microseconds, sorted. */
    long[] acceptMicros() {
        long[] values = new long[sentAt.length()];
        int n = 0;
        for (int i = 0; i < sentAt.length() && perMessageAcceptLatency; i++) {
            long done = acceptedAt.get(i);
            if (done != 0 && sentAt.get(i) != 0) {
                values[n++] = (done - sentAt.get(i)) / 1000;
            }
        }
        return sorted(values, n);
    }

    /** Accept→delivered latencies (from the 250/202 reply to the arrival at the sink) in microseconds, sorted. */
    long[] deliveryMicros() {
        long[] values = new long[deliveredAt.length()];
        int n = 0;
        for (int i = 0; i < deliveredAt.length(); i++) {
            long accept = acceptedAt.get(i);
            long arrival = deliveredAt.get(i);
            if (accept != 0 && arrival != 0) {
                values[n++] = Math.max(0, arrival - accept) / 1000;     // clock steps of the database's time: never negative
            }
        }
        return sorted(values, n);
    }

    private static long[] sorted(long[] values, int n) {
        long[] result = Arrays.copyOf(values, n);
        Arrays.sort(result);
        return result;
    }

    /** Accept latency p50, p95 or p99 as text: from each message's times, or from the generator's report. */
    String acceptPercentileMs(long[] sortedMicros, int percentile) {
        long[] reported = reportedAcceptMicros;
        if (reported != null) {
            long micros = reported[percentile == 50 ? 0 : percentile == 95 ? 1 : 2];
            return micros >= 100_000 ? String.format("%.0f", micros / 1000.0) : String.format("%.1f", micros / 1000.0);
        }
        return percentileMs(sortedMicros, percentile);
    }

    /** Nearest-rank percentile of sorted microseconds, as milliseconds text ("-" when empty). */
    static String percentileMs(long[] sortedMicros, double percentile) {
        if (sortedMicros.length == 0) {
            return "-";
        }
        int rank = (int) Math.ceil(percentile / 100.0 * sortedMicros.length);
        long micros = sortedMicros[Math.max(0, Math.min(sortedMicros.length - 1, rank - 1))];
        return micros >= 100_000 ? String.format("%.0f", micros / 1000.0) : String.format("%.1f", micros / 1000.0);
    }
}
