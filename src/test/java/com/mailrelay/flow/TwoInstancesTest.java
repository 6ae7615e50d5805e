package com.mailrelay.flow;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.message.RateLimitedException;
import com.mailrelay.message.Submission;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances (two application contexts, each with its own worker pool) on one database
 * drain a queue of 2,000 messages: the SKIP LOCKED claims must hand every message to exactly one
 * of them, and both must take part.
 */
class TwoInstancesTest {

    private static final int MESSAGES = 2000;

    @Test
    void twoInstancesShareTheQueueAndDeliverEachMessageOnce() throws Exception {
        String database = "shared_" + Long.toHexString(System.nanoTime());
        List<String> ids = new ArrayList<>();

        // Fill the queue through the real accept path of an instance whose workers are off.
        try (ConfigurableApplicationContext filler = start(database, false)) {
            AcceptPath acceptor = AcceptPath.of(filler);
            for (int i = 0; i < MESSAGES; i++) {
                ids.add(acceptor.accept(submission(i)).id());
            }
        }

        // Both instances up before either polls: on a busy machine the first would otherwise drain
        // the queue while the second is still starting.
        try (ConfigurableApplicationContext first = start(database, false);
             ConfigurableApplicationContext second = start(database, false)) {
            Instant started = Instant.now();
            for (ConfigurableApplicationContext instance : List.of(first, second)) {
                instance.getBean(CamelContext.class).getRouteController().startRoute("queue-poll");
            }
            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where status = 'SENT'", Long.class) == MESSAGES);
            Duration took = Duration.between(started, Instant.now());
            System.out.printf("two instances delivered %d messages in %d ms (%.0f messages/s)%n", MESSAGES,
                    took.toMillis(), MESSAGES * 1000.0 / took.toMillis());

            // Exactly once in the books: one attempt, one send event each.
            assertThat(jdbc.queryForObject("select count(*) from messages where attempts <> 1", Long.class)).isZero();
            assertThat(jdbc.queryForObject("select count(*) from events where type = 'send'", Long.class))
                    .isEqualTo(MESSAGES);
            // Both instances took part.
            List<String> owners = jdbc.queryForList("select distinct lease_owner from messages", String.class);
            assertThat(owners).hasSize(2);

            // Exactly once at the upstream.
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

    @Test
    void aRateLimitHoldsAcrossInstances() {
        String database = "limits_" + Long.toHexString(System.nanoTime());
        // "limited" may send 3 messages a day, counted in the database both instances share.
        try (ConfigurableApplicationContext first = start(database, false);
             ConfigurableApplicationContext second = start(database, false)) {
            AcceptPath one = AcceptPath.of(first);
            AcceptPath other = AcceptPath.of(second);
            one.accept(limited(1));
            other.accept(limited(2));
            one.accept(limited(3));
            assertThatThrownBy(() -> other.accept(limited(4))).isInstanceOf(RateLimitedException.class);
            assertThatThrownBy(() -> one.accept(limited(5))).isInstanceOf(RateLimitedException.class);
            assertThat(first.getBean(JdbcTemplate.class).queryForObject(
                    "select count(*) from messages where workspace_id = 'limited'", Long.class)).isEqualTo(3);
        }
    }

    private static ConfigurableApplicationContext start(String database, boolean workers) {
        return RelayInstances.start(database, List.of("relay.worker.enabled=" + workers));
    }

    private static Submission submission(int n) {
        return RelayInstances.submission("twins", "app@twins.test", "judy@customer.test", "twin " + n);
    }

    private static Submission limited(int n) {
        return RelayInstances.submission("limited", "app@limited.test", "kim@customer.test", "limited " + n);
    }
}
