package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The failed-login memory on its own: bounded in addresses, forgetting after its window, on a clock the test moves. */
class AuthFailuresTest {

    private static final Duration WINDOW = Duration.ofMinutes(15);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AuthFailures failures = new AuthFailures(5, WINDOW, 1000, now::get);

    @Test
    void aHundredThousandAddressesAreNeverMoreThanTheBound() throws Exception {
        InetAddress guesser = address(10, 0, 0, 1);
        for (int i = 0; i < 100_000; i++) {
            failures.failed(address(172, 16 + (i >> 16 & 0x0f), i >> 8 & 0xff, i & 0xff), "user" + i);
            if (i % 500 == 0) {
                failures.failed(guesser, "admin");           // the one that keeps guessing, among a flood of others
                failures.wait(guesser, 0);
            }
            if (i % 10_000 == 0) {
                assertThat(failures.size()).isLessThanOrEqualTo(1000);
            }
        }
        assertThat(failures.size()).isLessThanOrEqualTo(1000).isGreaterThan(500);
        // Eviction prefers to keep the address seen often: the flood did not make it forget the guesser.
        assertThat(failures.wait(guesser, 0)).isGreaterThan(Duration.ofMinutes(14));
    }

    @Test
    void rotatingIpv6AddressesInOneSlash64AreOneEntry() throws Exception {
        for (int i = 0; i < 5000; i++) {
            InetAddress rotated = InetAddress.getByName("2001:db8:1:2:" + Integer.toHexString(i) + ":0:0:1");
            failures.failed(ClientAddresses.key(rotated), "user");
        }
        assertThat(failures.size()).isEqualTo(1);
        InetAddress fresh = InetAddress.getByName("2001:db8:1:2:ffff:ffff:ffff:ffff");
        assertThat(failures.wait(ClientAddresses.key(fresh), 0)).isGreaterThan(Duration.ofMinutes(14));
        assertThat(ClientAddresses.text(ClientAddresses.key(fresh))).isEqualTo("2001:db8:1:2:0:0:0:0/64");
    }

    @Test
    void anAddressIsThrottledAfterItsFailuresAndForgottenAWindowAfterTheLast() throws Exception {
        InetAddress client = address(192, 0, 2, 7);
        for (int i = 0; i < 4; i++) {
            failures.failed(client, "acme");
            assertThat(failures.wait(client, 0)).isZero();
        }
        failures.failed(client, "acme");
        assertThat(failures.wait(client, 0)).isEqualTo(WINDOW);

        now.addAndGet(Duration.ofMinutes(10).toNanos());
        assertThat(failures.wait(client, 0)).isEqualTo(Duration.ofMinutes(5));

        now.addAndGet(Duration.ofMinutes(5).toNanos());
        assertThat(failures.wait(client, 0)).isZero();
        assertThat(failures.remembers(client)).isFalse();
        assertThat(failures.size()).isZero();
    }

    @Test
    void manyAddressesAllExpire() throws Exception {
        for (int i = 0; i < 900; i++) {
            failures.failed(address(198, 51, i >> 8, i & 0xff), "user");
        }
        assertThat(failures.size()).isEqualTo(900);
        now.addAndGet(WINDOW.toNanos());
        assertThat(failures.size()).isZero();
    }

    @Test
    void parallelAttemptsCountOnlyOnceTheAddressHasFailed() throws Exception {
        InetAddress client = address(192, 0, 2, 8);
        // Never failed: a pool of 100 connections logging in at once is not throttled.
        assertThat(failures.wait(client, 100)).isZero();
        failures.failed(client, "acme");
        assertThat(failures.wait(client, 3)).isZero();
        // One failure and four attempts under way: the fifth waits a moment, not the window.
        assertThat(failures.wait(client, 4)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aGoodLoginForgivesOnlyItsOwnUsersFailures() throws Exception {
        InetAddress own = address(192, 0, 2, 9);
        failures.failed(own, "acme");
        failures.failed(own, "acme");
        failures.succeeded(own, "acme");
        assertThat(failures.remembers(own)).isFalse();

        InetAddress mixed = address(192, 0, 2, 10);
        failures.failed(mixed, "acme");
        failures.failed(mixed, "globex");
        failures.succeeded(mixed, "acme");
        assertThat(failures.remembers(mixed)).isTrue();
    }

    private static InetAddress address(int a, int b, int c, int d) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    }
}
