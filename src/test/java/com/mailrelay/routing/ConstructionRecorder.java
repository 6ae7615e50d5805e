package com.mailrelay.routing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A class that route files name as a bean: it counts its constructions and init calls, so that a
 * test can prove that a refused route file never created it (not even while being parsed).
 */
public class ConstructionRecorder {

    public static final AtomicInteger CONSTRUCTED = new AtomicInteger();
    public static final AtomicInteger INITIALISED = new AtomicInteger();

    public ConstructionRecorder() {
        CONSTRUCTED.incrementAndGet();
    }

    public static ConstructionRecorder create() {
        return new ConstructionRecorder();
    }

    public void init() {
        INITIALISED.incrementAndGet();
    }

    public String toString() {
        return "recorder";
    }
}
