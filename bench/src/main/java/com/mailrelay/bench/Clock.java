package com.mailrelay.bench;

import java.time.Instant;

/**
 * The benchmark's times are System.nanoTime(); the relay's database holds wall-clock times. One
 * pair of readings taken at start maps the one onto the other (the two clocks do not drift apart
 * measurably within a run).
 */
final class Clock {

    private static final long ORIGIN_NANOS;
    private static final long ORIGIN_WALL_MICROS;

    static {
        Instant wall = Instant.now();
        ORIGIN_NANOS = System.nanoTime();
        ORIGIN_WALL_MICROS = wall.getEpochSecond() * 1_000_000 + wall.getNano() / 1000;
    }

    private Clock() {
    }

    /** The System.nanoTime() value of a wall-clock time in microseconds since the epoch. */
    static long nanosOfWallMicros(long wallMicros) {
        return ORIGIN_NANOS + (wallMicros - ORIGIN_WALL_MICROS) * 1000;
    }

    /** The wall-clock time (microseconds since the epoch) of a System.nanoTime() value. */
    static long wallMicrosOfNanos(long nanos) {
        return ORIGIN_WALL_MICROS + (nanos - ORIGIN_NANOS) / 1000;
    }
}
