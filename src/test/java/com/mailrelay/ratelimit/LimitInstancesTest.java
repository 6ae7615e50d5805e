package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Accepted;
import com.mailrelay.message.RateLimitedException;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances on one database (PostgreSQL in the postgres run, a shared H2 otherwise)
 * accepting at once never exceed a limit together: a soft limit's windows (q-limit-soft, 3 per
 * 2 s) each hold at most 3 of the messages both accepted, and a global hard limit (relay.rate-limits:
 * 30 a day, all workspaces together) lets exactly 30 through whichever instance took them.
 */
class LimitInstancesTest {

    private static final int GLOBAL = 30;
    private static final int SOFT = 12;
    private static final long SOFT_WINDOW_MILLIS = 2000;
    private static final String SENT_FROM = "sent from ";

    @Test
    void twoInstancesTogetherNeverExceedALimitOrAWindow() throws Exception {
        String database = "limits_" + Long.toHexString(System.nanoTime());
        List<String> settings = List.of("relay.rate-limits[0].window=24h",
                "relay.rate-limits[0].messages=" + GLOBAL);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (ConfigurableApplicationContext first = RelayInstances.start(database, settings);
             ConfigurableApplicationContext second = RelayInstances.start(database, settings)) {
            List<AcceptPath> instances = List.of(AcceptPath.of(first), AcceptPath.of(second));
            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);

            // Soft: every one accepted, from both instances at once.
            List<Future<Object>> soft = new ArrayList<>();
            for (int i = 0; i < SOFT; i++) {
                AcceptPath instance = instances.get(i % 2);
                String subject = "soft " + i;
                soft.add(pool.submit(accept(instance, "q-limit-soft", subject)));
            }
            List<String> accepted = new ArrayList<>();
            for (Future<Object> outcome : soft) {
                assertThat(outcome.get()).isInstanceOf(Accepted.class);
                accepted.add(((Accepted) outcome.get()).id());
            }
            Map<Long, Integer> perWindow = new TreeMap<>();
            ObjectMapper json = new ObjectMapper();
            int heldCount = 0;
            for (String id : accepted) {
                List<String> deferrals = jdbc.queryForList("select detail from events where message_id = ?"
                        + " and type = 'deferral'", String.class, UUID.fromString(id));
                long window;
                if (deferrals.isEmpty()) {
                    Instant queued = jdbc.queryForObject("select queued_at from messages where id = ?",
                            Timestamp.class, UUID.fromString(id)).toInstant();
                    window = Math.floorDiv(queued.toEpochMilli(), SOFT_WINDOW_MILLIS);
                } else {
                    assertThat(deferrals).hasSize(1);
                    heldCount++;
                    String reply = json.readTree(deferrals.get(0)).path("reply").asText();
                    window = Instant.parse(reply.substring(reply.indexOf(SENT_FROM) + SENT_FROM.length()))
                            .toEpochMilli() / SOFT_WINDOW_MILLIS;
                }
                perWindow.merge(window, 1, Integer::sum);
            }
            System.out.println("q-limit-soft messages per 2 s window, two instances: " + perWindow);
            assertThat(perWindow.values()).allMatch(count -> count <= 3);
            assertThat(perWindow.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(SOFT);

            // Hard and global: the day's 30 minus the 12 above, not one more, whichever instance.
            List<Future<Object>> hard = new ArrayList<>();
            for (int i = 0; i < 2 * GLOBAL; i++) {
                hard.add(pool.submit(accept(instances.get(i % 2), "q-limit-hard", "hard " + i)));
            }
            int refused = 0;
            for (Future<Object> outcome : hard) {
                Object result = outcome.get();
                if (result instanceof RateLimitedException limited) {
                    refused++;
                    assertThat(limited.getMessage()).contains("the relay (all workspaces together) may send 30"
                            + " messages per 24h");
                } else {
                    accepted.add(((Accepted) result).id());
                }
            }
            assertThat(accepted).hasSize(GLOBAL);
            assertThat(refused).isEqualTo(2 * GLOBAL - (GLOBAL - SOFT));
            assertThat(jdbc.queryForObject("select count(*) from messages", Long.class)).isEqualTo(GLOBAL);
            assertThat(jdbc.queryForObject("select sum(messages) from rate_windows where scope = '24h/global'",
                    Long.class)).isEqualTo(GLOBAL);

            // Every accepted message delivered, each once, the held ones not before their windows.
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where status = 'SENT'", Long.class) == GLOBAL);
            assertThat(jdbc.queryForObject("select count(*) from events where type = 'send'", Long.class))
                    .isEqualTo(GLOBAL);
            List<Map<String, Object>> held = jdbc.queryForList("select d.detail, s.created_at as sent from events d"
                    + " join events s on s.message_id = d.message_id where d.type = 'deferral' and s.type = 'send'");
            // As many as were held at accept (how many depends on how many windows the accepts took).
            assertThat(held).hasSize(heldCount);
            assertThat(heldCount).isPositive();
            for (Map<String, Object> message : held) {
                String reply = json.readTree((String) message.get("detail")).path("reply").asText();
                Instant from = Instant.parse(reply.substring(reply.indexOf(SENT_FROM) + SENT_FROM.length()));
                Object sent = message.get("sent");
                // H2 answers timestamp with time zone as OffsetDateTime, PostgreSQL's driver as Timestamp.
                Instant at = sent instanceof Timestamp t ? t.toInstant() : ((java.time.OffsetDateTime) sent).toInstant();
                assertThat(at).isAfterOrEqualTo(from);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** An accept through the real path of one instance: its answer, or the refusal it threw. */
    private static Callable<Object> accept(AcceptPath instance, String workspace, String subject) {
        return () -> {
            try {
                return instance.accept(RelayInstances.submission(workspace, "app@" + workspace + ".test",
                        "reader@customer.test", subject));
            } catch (RateLimitedException refused) {
                return refused;
            }
        };
    }
}
