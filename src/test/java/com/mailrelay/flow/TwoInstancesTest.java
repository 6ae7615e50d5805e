package com.mailrelay.flow;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.message.RateLimitedException;
import com.mailrelay.message.Submission;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances (two application contexts, each with its own worker pool) on one database:
 * they drain a queue of 2,000 messages, and the SKIP LOCKED claims must hand every message to
 * exactly one of them, and both must take part; and a workspace's rate limit, counted in the
 * database, holds across both. The two tests share the pair of instances (a context's start is
 * most of such a test's time) and each reads only its own workspace's rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoInstancesTest {

    private static final int MESSAGES = 2000;

    private ConfigurableApplicationContext first;
    private ConfigurableApplicationContext second;

    /** Both instances up, their workers off until a test starts them: the first would otherwise
     *  drain the queue while the second is still starting. */
    @BeforeAll
    void startTwoInstancesOnOneDatabase() {
        String database = "shared_" + Long.toHexString(System.nanoTime());
        first = RelayInstances.start(database, List.of("relay.worker.enabled=false"));
        second = RelayInstances.start(database, List.of("relay.worker.enabled=false"));
    }

    @AfterAll
    void stopBoth() {
        for (ConfigurableApplicationContext instance : Arrays.asList(second, first)) {
            if (instance != null) {
                instance.close();
            }
        }
    }

    @Test
    void twoInstancesShareTheQueueAndDeliverEachMessageOnce() throws Exception {
        // Fill the queue through the real accept path of the first instance, from eight threads
        // (the accepts share commits, as an ingress's do), before either instance polls.
        AcceptPath acceptor = AcceptPath.of(first);
        ExecutorService senders = Executors.newFixedThreadPool(8);
        List<Future<String>> accepts = new ArrayList<>();
        try {
            for (int i = 0; i < MESSAGES; i++) {
                Submission submission = submission(i);
                accepts.add(senders.submit(() -> acceptor.accept(submission).id()));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> accept : accepts) {
                ids.add(accept.get(2, TimeUnit.MINUTES));
            }
            assertThat(ids).doesNotHaveDuplicates().hasSize(MESSAGES);

            Instant started = Instant.now();
            for (ConfigurableApplicationContext instance : List.of(first, second)) {
                instance.getBean(CamelContext.class).getRouteController().startRoute("queue-poll");
            }
            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where workspace_id = 'twins' and status = 'SENT'",
                            Long.class) == MESSAGES);
            Duration took = Duration.between(started, Instant.now());
            System.out.printf("two instances delivered %d messages in %d ms (%.0f messages/s)%n", MESSAGES,
                    took.toMillis(), MESSAGES * 1000.0 / took.toMillis());

            // Exactly once in the books: one attempt, one send event each.
            assertThat(jdbc.queryForObject(
                    "select count(*) from messages where workspace_id = 'twins' and attempts <> 1", Long.class)).isZero();
            assertThat(jdbc.queryForObject("""
                    select count(*) from events e join messages m on m.id = e.message_id
                     where m.workspace_id = 'twins' and e.type = 'send'""", Long.class))
                    .isEqualTo(MESSAGES);
            // Both instances took part.
            List<String> owners = jdbc.queryForList(
                    "select distinct lease_owner from messages where workspace_id = 'twins'", String.class);
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
        } finally {
            senders.shutdownNow();
        }
    }

    @Test
    void aRateLimitHoldsAcrossInstances() {
        // "limited" may send 3 messages a day, counted in the database both instances share.
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

    private static Submission submission(int n) {
        return RelayInstances.submission("twins", "app@twins.test", "judy@customer.test", "twin " + n);
    }

    private static Submission limited(int n) {
        return RelayInstances.submission("limited", "app@limited.test", "kim@customer.test", "limited " + n);
    }
}
