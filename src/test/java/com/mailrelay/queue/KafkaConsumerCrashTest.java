package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.Submission;
import com.mailrelay.store.QueueStore;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.DatabaseOutage;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances in one consumer group (two application contexts on one database and one
 * broker). The first dies in the middle of a poll's batch, while a send is on the wire: from that
 * moment it writes nothing more to the database (its outcome is lost, as in a crash), and it is
 * shut down. The second takes over the partition: every accepted message ends SENT with one row
 * and one send event; the message whose send was cut short is sent again once its lease has run
 * out (at least once upstream), every other one reaches the upstream exactly once.
 */
class KafkaConsumerCrashTest {

    private static final int MESSAGES = 120;
    private static final int HELD = 60;

    @Test
    void aConsumerKilledMidBatchLosesNothingAndSendsNothingTwiceInTheBooks() {
        String run = Long.toHexString(System.nanoTime());
        String database = "kafka_crash_" + run;
        String topic = "relay-messages-crash-" + run;
        var upstream = Upstreams.scripted();
        upstream.hold();   // held again, whatever another test released before

        // Every message on the topic, through the real accept path of an instance without consumers.
        List<String> ids = new ArrayList<>();
        List<String> recipients = new ArrayList<>();
        try (ConfigurableApplicationContext filler = start(database, topic, false)) {
            AcceptPath acceptor = AcceptPath.of(filler);
            for (int i = 0; i < MESSAGES; i++) {
                String recipient = (i == HELD ? "hold-" : "crash-") + run + "-" + i + "@customer.test";
                recipients.add(recipient);
                ids.add(acceptor.accept(submission(i, recipient)).id());
            }
        }

        // One workspace, so one partition, taken in order: the first instance delivers the messages
        // before HELD, and is stopped with HELD on the wire and the rest of its batch untouched.
        ConfigurableApplicationContext first = start(database, topic, true);
        String firstInstance = first.getBean(QueueStore.class).instanceId();
        JdbcTemplate firstJdbc = first.getBean(JdbcTemplate.class);
        try {
            await().atMost(Duration.ofSeconds(90)).until(upstream::holding);
            assertThat(count(firstJdbc, "select count(*) from messages where status = 'SENT'")).isEqualTo(HELD);
            assertThat(count(firstJdbc, "select count(*) from messages where status = 'SENDING'")).isEqualTo(1);

            DatabaseOutage.begin();          // the first instance "dies": nothing more reaches its books
            upstream.release();
            await().atMost(Duration.ofSeconds(10)).until(() -> upstream.deliveredTo(recipients.get(HELD)).size() == 1);
            first.close();
        } finally {
            DatabaseOutage.end();
            upstream.release();
            first.close();
        }

        try (ConfigurableApplicationContext second = start(database, topic, true)) {
            JdbcTemplate jdbc = second.getBean(JdbcTemplate.class);
            String secondInstance = second.getBean(QueueStore.class).instanceId();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).until(() ->
                    count(jdbc, "select count(*) from messages where status = 'SENT'") == MESSAGES);

            // Exactly once in the books: one row and one send event per accepted message.
            assertThat(count(jdbc, "select count(*) from messages")).isEqualTo(MESSAGES);
            assertThat(count(jdbc, "select count(*) from events where type = 'send'")).isEqualTo(MESSAGES);
            assertThat(count(jdbc, "select count(*) from events where type <> 'send'")).isZero();
            for (int i = 0; i < MESSAGES; i++) {
                Map<String, Object> row = jdbc.queryForMap("select attempts, lease_owner from messages where id = ?",
                        UUID.fromString(ids.get(i)));
                List<Upstreams.ScriptedServer.Delivery> copies = upstream.deliveredTo(recipients.get(i));
                if (i == HELD) {
                    // Its send was cut short: the second instance's poller took it over after the lease.
                    assertThat(row).containsEntry("attempts", 2).containsEntry("lease_owner", secondInstance);
                    assertThat(copies).hasSize(2);
                } else {
                    assertThat(row.get("attempts")).as("attempts of message %d", i).isEqualTo(1);
                    assertThat(row.get("lease_owner")).isEqualTo(i < HELD ? firstInstance : secondInstance);
                    assertThat(copies).as("copies of message %d", i).hasSize(1);
                }
            }
        }
    }

    private static ConfigurableApplicationContext start(String database, String topic, boolean workers) {
        return RelayInstances.start(database, List.of("relay.worker.enabled=" + workers, "relay.worker.lease=5s",
                "relay.queue=kafka", "relay.queue-kafka.brokers=" + KafkaBroker.brokers(),
                "relay.queue-kafka.topic=" + topic, "relay.queue-kafka.partitions=2", "relay.queue-kafka.consumers=1",
                "relay.queue-kafka.max-poll-records=20"), DatabaseOutage.class);
    }

    /** To workspace "retry", whose dispatch goes to the scripted upstream. */
    private static Submission submission(int n, String recipient) {
        return RelayInstances.submission("retry", "app@retry.test", recipient, "crash " + n);
    }

    private static long count(JdbcTemplate jdbc, String sql) {
        return jdbc.queryForObject(sql, Long.class);
    }
}
