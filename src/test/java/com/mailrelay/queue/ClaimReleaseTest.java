package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.mailrelay.store.QueueStore;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stopping an instance gives back what it claimed but had not started. Instance A (two workers,
 * a 10-minute lease) claims four slow messages — two sending (8 s each at the upstream), two
 * waiting in seda:deliver — and is stopped while they send: the waiting two must be released at
 * once (QUEUED, due now, no lease owner), not held for the lease, and instance B on the same
 * database delivers them. Every message goes out exactly once.
 */
class ClaimReleaseTest {

    @Test
    void stoppingReleasesClaimedMessagesNoWorkerStarted() {
        String database = "release_" + Long.toHexString(System.nanoTime());
        List<String> recipients = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        String marker = Long.toHexString(System.nanoTime());

        ConfigurableApplicationContext first = RelayInstances.start(database, List.of(
                "relay.worker.threads=2", "relay.worker.lease=10m", "relay.worker.attempt-deadline=30s"));
        String firstInstance = first.getBean(QueueStore.class).instanceId();
        JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
        CompletableFuture<Void> stopping;
        try {
            AcceptPath acceptor = AcceptPath.of(first);
            for (int i = 0; i < 4; i++) {
                String recipient = "slow-release-" + marker + "-" + i + "@customer.test";
                recipients.add(recipient);
                ids.add(acceptor.accept(RelayInstances.submission("slow", "app@slow.test", recipient,
                        "release " + i)).id());
            }
            // Two workers: two sending, and up to two more claimed into seda:deliver.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() ->
                    count(jdbc, "status = 'SENDING' and lease_owner = '" + firstInstance + "'") == 4);

            stopping = CompletableFuture.runAsync(first::close);
            // Released while the two sends are still under way (they take 8 s).
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() ->
                    count(jdbc, "status = 'QUEUED' and lease_owner is null and attempts = 0") == 2);
            assertThat(stopping).as("the stop is still draining the two sends").isNotDone();
            assertThat(count(jdbc, "status = 'QUEUED' and next_attempt_at <= current_timestamp"))
                    .as("due now, not after the 10-minute lease").isEqualTo(2);
        } catch (RuntimeException | Error e) {
            first.close();
            throw e;
        }
        stopping.join();

        try (ConfigurableApplicationContext second = RelayInstances.start(database, List.of(
                "relay.worker.threads=2", "relay.worker.lease=10m", "relay.worker.attempt-deadline=30s"))) {
            String secondInstance = second.getBean(QueueStore.class).instanceId();
            JdbcTemplate secondJdbc = second.getBean(JdbcTemplate.class);
            // The two under way finished on the first instance before it stopped.
            assertThat(count(secondJdbc, "status = 'SENT' and lease_owner = '" + firstInstance + "'")).isEqualTo(2);
            await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() ->
                    count(secondJdbc, "status = 'SENT'") == 4);
            assertThat(count(secondJdbc, "status = 'SENT' and lease_owner = '" + secondInstance + "'"
                    + " and attempts = 1")).as("the released ones: taken by the second instance, first attempt")
                    .isEqualTo(2);
            assertThat(secondJdbc.queryForObject("select count(*) from events where type = 'send'", Long.class))
                    .isEqualTo(4);
            for (String recipient : recipients) {
                assertThat(Upstreams.scripted().deliveredTo(recipient)).as(recipient).hasSize(1);
            }
        }
    }

    private static long count(JdbcTemplate jdbc, String where) {
        return jdbc.queryForObject("select count(*) from messages where " + where, Long.class);
    }
}
