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
 * in its Subject, so the sink can time it end to end and tell a late message of an earlier phase
 * from one of this phase. Messages of an external load generator carry no sequence number
 * ({@link #marked} false): the sink only counts them.
 */
final class Phase {

    static final String SUBJECT_PREFIX = "bench ";
    static final int MARKER_LENGTH = 10;                // "PP-SSSSSSS"
    static final String UNMARKED_SUBJECT = "bench smtp-source";

    final int id;
    final String name;
    final int total;
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
    volatile long startNanos;
    volatile long sendsEndNanos;
    /** Set when the phase's messages were not all sent, or not all delivered, by the deadline. */
    volatile String incomplete;

    Phase(int id, String name, int total, boolean marked, long deadlineNanos) {
        if (id < 0 || id > 99 || total > 9_999_999) {
            throw new IllegalArgumentException("at most 99 phases of at most 9,999,999 messages");
        }
        this.id = id;
        this.name = name;
        this.total = total;
        this.marked = marked;
        this.deadlineNanos = deadlineNanos;
        int slots = marked ? total : 0;
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

    void markError(String what) {
        errors.incrementAndGet();
        if (errorSamples.size() < 5) {
            errorSamples.add(what);
        }
    }

    /** Called by the sink for a marked message of this phase. */
    void markDelivered(int seq, long nanos) {
        if (seq < 0 || seq >= total) {
            return;
        }
        if (deliveredAt.compareAndSet(seq, 0, nanos)) {
            delivered.incrementAndGet();
            lastDelivered.accumulateAndGet(nanos, Math::max);
        } else {
            duplicates.incrementAndGet();
        }
    }

    /** Called by the sink for an unmarked message while this phase runs. */
    void countDelivered(long nanos) {
        delivered.incrementAndGet();
        lastDelivered.accumulateAndGet(nanos, Math::max);
    }

    /** Accept latencies in microseconds, sorted. */
    long[] acceptMicros() {
        long[] values = new long[total];
        int n = 0;
        for (int i = 0; i < sentAt.length(); i++) {
            long done = acceptedAt.get(i);
            if (done != 0) {
                values[n++] = (done - sentAt.get(i)) / 1000;
            }
        }
        return sorted(values, n);
    }

    /** Accept→delivered latencies (from the 250/202 reply to the arrival at the sink) in microseconds, sorted. */
    long[] deliveryMicros() {
        long[] values = new long[total];
        int n = 0;
        for (int i = 0; i < deliveredAt.length(); i++) {
            long accept = acceptedAt.get(i);
            long arrival = deliveredAt.get(i);
            if (accept != 0 && arrival != 0) {
                values[n++] = Math.max(0, arrival - accept) / 1000;
            }
        }
        return sorted(values, n);
    }

    private static long[] sorted(long[] values, int n) {
        long[] result = Arrays.copyOf(values, n);
        Arrays.sort(result);
        return result;
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
