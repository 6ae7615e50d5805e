package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.mailrelay.store.QueueStore;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances in one consumer group on a topic of one partition: one consumes, the other
 * stands by. The consuming one is stopped (context close, as on SIGTERM) while it delivers a
 * message: it finishes that message, commits the offsets of what it finished and leaves the group,
 * so the other takes the partition at once — long before Kafka's session timeout (45 s) would
 * have handed it over — and reads on from the first record the stopped one did not finish: no
 * record is read twice, every message is delivered once and recorded once.
 */
class KafkaGracefulShutdownTest {

    private static final int MESSAGES = 30;
    private static final int HELD = 10;

    @Test
    void aStoppedInstanceFinishesItsRecordCommitsAndLeavesTheGroupAtOnce() throws Exception {
        String run = Long.toHexString(System.nanoTime());
        String database = "kafka_stop_" + run;
        String topic = "relay-messages-stop-" + run;
        String group = "relay-dispatch-stop-" + run;
        var upstream = Upstreams.scripted();
        upstream.hold();
        ConfigurableApplicationContext first = start(database, topic, group);
        ConfigurableApplicationContext second = start(database, topic, group);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> KafkaBroker.members(group) == 2
                    && KafkaBroker.membersWithPartitions(group) == 1);

            List<String> ids = new ArrayList<>();
            List<String> recipients = new ArrayList<>();
            AcceptPath acceptor = AcceptPath.of(first);
            for (int i = 0; i < MESSAGES; i++) {
                String recipient = (i == HELD ? "hold-" : "stop-") + run + "-" + i + "@customer.test";
                recipients.add(recipient);
                ids.add(acceptor.accept(RelayInstances.submission("retry", "app@retry.test", recipient,
                        "stop " + i)).id());
            }

            // The owner of the partition delivers in order up to the held message, and holds it.
            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofSeconds(60)).until(upstream::holding);
            String ownerId = jdbc.queryForObject("select lease_owner from messages where status = 'SENDING'",
                    String.class);
            boolean firstOwns = ownerId.equals(first.getBean(QueueStore.class).instanceId());
            ConfigurableApplicationContext owner = firstOwns ? first : second;
            ConfigurableApplicationContext other = firstOwns ? second : first;
            String otherId = other.getBean(QueueStore.class).instanceId();
            assertThat(count(jdbc, "select count(*) from messages where status = 'SENT'")).isEqualTo(HELD);
            jdbc = other.getBean(JdbcTemplate.class);     // the owner's pool closes with it

            // SIGTERM's equivalent while the send is on the wire; the send then completes.
            CompletableFuture<Void> closing = CompletableFuture.runAsync(owner::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> owner.getBean(CamelContext.class).isStopping());
            upstream.release();
            closing.get(60, TimeUnit.SECONDS);
            long stopped = System.nanoTime();

            // The other instance has the partition at once and delivers the rest.
            JdbcTemplate books = jdbc;
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() ->
                    count(books, "select count(*) from messages where status = 'SENT'") == MESSAGES);
            Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
            assertThat(takeover).as("well under the session timeout").isLessThan(Duration.ofSeconds(20));

            // Every accepted message once: one row, one attempt, one send event, one copy upstream.
            assertThat(count(jdbc, "select count(*) from messages")).isEqualTo(MESSAGES);
            assertThat(count(jdbc, "select count(*) from messages where attempts <> 1")).isZero();
            assertThat(count(jdbc, "select count(*) from events where type = 'send'")).isEqualTo(MESSAGES);
            int byOwner = 0;
            for (int i = 0; i < MESSAGES; i++) {
                Map<String, Object> row = jdbc.queryForMap("select lease_owner from messages where id = ?",
                        UUID.fromString(ids.get(i)));
                assertThat(upstream.deliveredTo(recipients.get(i))).as("copies of message %d", i).hasSize(1);
                if (ownerId.equals(row.get("lease_owner"))) {
                    assertThat(i).as("the stopped instance delivered a prefix").isEqualTo(byOwner);
                    byOwner++;
                } else {
                    assertThat(row.get("lease_owner")).isEqualTo(otherId);
                }
            }
            assertThat(byOwner).as("the held message was finished by its instance").isGreaterThan(HELD);
            // The stopped instance committed what it finished: the other read none of it again.
            Counter seenAgain = other.getBean(MeterRegistry.class).find("relay.queue.intake")
                    .tag("outcome", "seen_again").counter();
            assertThat(seenAgain == null ? 0 : seenAgain.count()).as("records read a second time").isZero();
        } finally {
            upstream.release();
            first.close();
            second.close();
        }
    }

    private static ConfigurableApplicationContext start(String database, String topic, String group) {
        return RelayInstances.start(database, List.of("relay.queue=kafka",
                "relay.queue-kafka.brokers=" + KafkaBroker.brokers(), "relay.queue-kafka.topic=" + topic,
                "relay.queue-kafka.group-id=" + group, "relay.queue-kafka.partitions=1",
                "relay.queue-kafka.consumers=1", "relay.queue-kafka.max-poll-records=20"));
    }

    private static long count(JdbcTemplate jdbc, String sql) {
        return jdbc.queryForObject(sql, Long.class);
    }
}
