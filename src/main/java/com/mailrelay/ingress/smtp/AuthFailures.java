package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

/**
 * Failed SMTP logins per client address ({@link ClientAddresses#key}), which decide when AUTH is
 * refused without checking a password. An address is throttled once it has failed
 * {@code maxFailures} times; its failures are forgotten {@code window} after its last one.
 *
 * <p>The memory is bounded: at most {@code maxAddresses} addresses are kept (Caffeine's size
 * eviction, which prefers to keep addresses seen often, so a flood of fresh addresses does not
 * push out the one that keeps guessing), and each entry expires on its own. Without these limits
 * rotating IPv6 addresses would grow the map for ever.
 */
final class AuthFailures {

    /** @param users the user names that failed: a success clears the count only if they are all its own */
    private record Entry(int count, long lastNanos, Set<String> users) {
    }

    private final int maxFailures;
    private final Duration window;
    private final Ticker ticker;
    private final Cache<InetAddress, Entry> entries;
    private final ConcurrentMap<InetAddress, Entry> map;

    AuthFailures(int maxFailures, Duration window, int maxAddresses, Ticker ticker) {
        this.maxFailures = maxFailures;
        this.window = window;
        this.ticker = ticker;
        this.entries = Caffeine.newBuilder()
                .maximumSize(maxAddresses)
                .expireAfterWrite(window)
                .ticker(ticker)
                // Evict in the calling thread: the bound holds without a background task.
                .executor(Runnable::run)
                .build();
        this.map = entries.asMap();
    }

    /**
     * How long the address must wait before its next AUTH is checked, or {@link Duration#ZERO}
     * when it may be checked now.
     *
     * @param inFlight other AUTH attempts of the address being checked at this moment: once an
     *                 address has failed, parallel guesses count as failures, so that opening
     *                 many connections does not multiply its guesses. An address that has not
     *                 failed is never throttled, however many connections it opens.
     */
    Duration wait(InetAddress key, int inFlight) {
        Entry entry = entries.getIfPresent(key);
        if (entry == null || entry.count() + inFlight < maxFailures) {
            return Duration.ZERO;
        }
        if (entry.count() < maxFailures) {
            return Duration.ofSeconds(1);          // only the parallel attempts are in the way
        }
        Duration left = window.minusNanos(ticker.read() - entry.lastNanos());
        return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
    }

    void failed(InetAddress key, String user) {
        long now = ticker.read();
        map.merge(key, new Entry(1, now, Set.of(user)), (seen, one) -> {
            Set<String> users = new HashSet<>(seen.users());
            users.add(user);
            return new Entry(seen.count() + 1, now, users);
        });
    }

    /**
     * A good login forgives the address only its own user's failures: logging in to one's own
     * account must not reset the count of guesses at someone else's.
     */
    void succeeded(InetAddress key, String user) {
        map.computeIfPresent(key, (k, seen) -> Set.of(user).containsAll(seen.users()) ? null : seen);
    }

    /** Addresses remembered now (expired and evicted ones are dropped first). */
    long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    boolean remembers(InetAddress key) {
        return entries.getIfPresent(key) != null;
    }
}
