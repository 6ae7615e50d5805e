package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.message.Submission;
import com.mailrelay.store.QueueStore;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances (two application contexts) on one database and one broker, in one consumer
 * group: the topic's partitions, and so the workspaces, are shared out between them; both deliver,
 * and every message once.
 */
class KafkaTwoInstancesTest {

    private static final int MESSAGES = 400;
    private static final int WORKSPACES = 16;

    @Test
    void twoInstancesShareThePartitionsAndDeliverEachMessageOnce() {
        String run = Long.toHexString(System.nanoTime());
        String topic = "relay-messages-pair-" + run;
        String group = "relay-dispatch-pair-" + run;
        try (ConfigurableApplicationContext first = start("kafka_pair_" + run, topic, group);
             ConfigurableApplicationContext second = start("kafka_pair_" + run, topic, group)) {
            // Two consumers each: four members, one partition apiece.
            await().atMost(Duration.ofSeconds(60)).until(() -> KafkaBroker.membersWithPartitions(group) == 4);

            // Accepted by either instance, produced keyed by workspace.
            List<String> ids = new ArrayList<>();
            List<AcceptPath> acceptors = List.of(AcceptPath.of(first),
                    AcceptPath.of(second));
            for (int i = 0; i < MESSAGES; i++) {
                ids.add(acceptors.get(i % 2).accept(submission(i)).id());
            }

            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where status = 'SENT'", Long.class) == MESSAGES);
            assertThat(jdbc.queryForObject("select count(*) from messages", Long.class)).isEqualTo(MESSAGES);
            assertThat(jdbc.queryForObject("select count(*) from messages where attempts <> 1", Long.class)).isZero();
            assertThat(jdbc.queryForObject("select count(*) from events where type = 'send'", Long.class))
                    .isEqualTo(MESSAGES);
            assertThat(jdbc.queryForList("select distinct lease_owner from messages", String.class))
                    .as("both instances delivered")
                    .containsExactlyInAnyOrder(first.getBean(QueueStore.class).instanceId(),
                            second.getBean(QueueStore.class).instanceId());

            Set<String> wanted = new HashSet<>(ids);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                Map<String, Long> copies = Arrays.stream(Upstreams.greenMail("default").getReceivedMessages())
                        .map(RelayInstances::relayId)
                        .filter(wanted::contains)
                        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
                assertThat(copies).hasSize(MESSAGES);
                assertThat(copies.values()).allMatch(count -> count == 1);
            });
        }
    }

    private static ConfigurableApplicationContext start(String database, String topic, String group) {
        return RelayInstances.start(database, List.of("relay.queue=kafka",
                "relay.queue-kafka.brokers=" + KafkaBroker.brokers(), "relay.queue-kafka.topic=" + topic,
                "relay.queue-kafka.group-id=" + group, "relay.queue-kafka.partitions=4",
                "relay.queue-kafka.consumers=2"));
    }

    /** Workspaces without routes of their own: dispatch sends them to the default upstream. */
    private static Submission submission(int n) {
        return RelayInstances.submission("pair-" + n % WORKSPACES, "app@pair.test", "kim@customer.test", "pair " + n);
    }
}
