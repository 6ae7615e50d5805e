package com.mailrelay.routing;

import java.nio.file.Files;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reload can never stall delivery: a file naming a consumer that does not exist is refused
 * while mail flows, a consumer missing at run time fails at once as transient, and a fix takes
 * over within seconds even while the broken version still has messages in it.
 */
class RouteHandoverTest extends RouteFilesTestSupport {

    private static final String CHAIN_EXTRA = """
            - route:
                id: chain-extra
                from:
                  uri: direct:chain-extra
                  steps:
                    - to: direct:provider-acme-transactional
            """;

    @Test
    void aDispatchEditNamingAMissingProviderIsRefusedWhileTheLoadIsDelivered() throws Exception {
        String run = "missing-" + System.nanoTime();
        ExecutorService sender = Executors.newSingleThreadExecutor();
        try {
            Future<List<String>> submitted = sender.submit(() -> {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    ids.add(submit("acme", message("app@acme.test", "load@customer.test", run + " " + i)));
                }
                return ids;
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> countSubject(run) >= 50);
            String broken = dispatch.replace("- to: direct:provider-acme-transactional",
                    "- to: direct:provider-nowhere");
            write("dispatch.camel.yaml", broken);
            assertThat(awaitError("dispatch.camel.yaml", "no route consumes direct:provider-nowhere"))
                    .startsWith("dispatch.camel.yaml, line " + lineOf(broken, "provider-nowhere"));
            List<String> ids = submitted.get();
            assertThat(ids).hasSize(300);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where subject like ? and status = 'SENT'",
                            Long.class, run + "%") == 300);
            assertThat(jdbc.queryForObject("select count(*) from messages where subject like ? and attempts > 1",
                    Long.class, run + "%")).as("no message was ever deferred").isZero();
            assertThat(ids).allMatch(id -> Upstreams.received(Upstreams.greenMail("acme-transactional"), id).size() == 1);
        } finally {
            sender.shutdownNow();
        }
    }

    @Test
    void aConsumerMissingAtRunTimeFailsAtOnceAsTransientAndItsReturnResumesDelivery() throws Exception {
        write("extra.camel.yaml", CHAIN_EXTRA);
        awaitLoadedWithoutErrors();
        write("dispatch.camel.yaml", dispatch.replace("- to: direct:provider-acme-transactional",
                "- to: direct:chain-extra"));
        awaitLoadedWithoutErrors();
        String before = submit("acme", message("app@acme.test", "nia@customer.test", "through chain-extra"));
        awaitStatus(before, "SENT");

        // The file of a route that dispatch names is removed: nothing validates a deletion.
        Files.delete(ROUTES.resolve("extra.camel.yaml"));
        await().atMost(Duration.ofSeconds(10)).until(() -> camel.getRoute("chain-extra") == null);
        String id = submit("acme", message("app@acme.test", "nia@customer.test", "no consumer"));
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(10)).until(() -> {
            Map<String, Object> row = row(id);
            return "DEFERRED".equals(row.get("status")) || ((Number) row.get("attempts")).intValue() > 1;
        });
        Map<String, Object> deferred = row(id);
        assertThat(deferred.get("status")).isEqualTo("DEFERRED");
        assertThat(deferred.get("attempts")).isEqualTo(1);
        assertThat((String) deferred.get("last_error")).contains("no route takes the message")
                .contains("direct://chain-extra");
        Duration took = Duration.between(instant(deferred.get("queued_at")), instant(deferred.get("updated_at")));
        assertThat(took).as("accepted to deferred").isLessThan(Duration.ofSeconds(1));

        // The file comes back: the retry goes out through it within seconds.
        long restored = System.nanoTime();
        write("extra.camel.yaml", CHAIN_EXTRA);
        awaitStatus(id, "SENT");
        assertThat(Duration.ofNanos(System.nanoTime() - restored)).isLessThan(Duration.ofSeconds(5));
        assertThat(Upstreams.received(Upstreams.greenMail("acme-transactional"), id)).hasSize(1);
        // Put dispatch back before the chain goes (the after-each order would refuse the other way).
        write("dispatch.camel.yaml", dispatch);
        awaitLoadedWithoutErrors();
    }

    @Test
    void aFixTakesOverWithinSecondsWhileTheBrokenVersionStillHasMessagesInIt() throws Exception {
        // Broken at run time in a way no validation sees: a chain that holds every message for long.
        write("extra.camel.yaml", """
                - route:
                    id: chain-slow
                    from:
                      uri: direct:chain-slow
                      steps:
                        - delay:
                            constant: "6000"
                        - to: direct:provider-acme-transactional
                """);
        awaitLoadedWithoutErrors();
        write("dispatch.camel.yaml", dispatch.replace("- to: direct:provider-acme-transactional",
                "- to: direct:chain-slow"));
        awaitLoadedWithoutErrors();
        List<String> stuck = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            stuck.add(submit("acme", message("app@acme.test", "held@customer.test", "stuck " + i)));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> camel.getInflightRepository().size("dispatch") == 3);

        long fixed = System.nanoTime();
        write("dispatch.camel.yaml", dispatch);
        awaitLoadedWithoutErrors();
        String after = submit("acme", message("app@acme.test", "nia@customer.test", "after the fix"));
        awaitStatus(after, "SENT");
        Duration takeover = Duration.ofNanos(System.nanoTime() - fixed);
        assertThat(takeover).as("fix written to its first delivery").isLessThan(Duration.ofSeconds(5));
        assertThat(row(after).get("provider_id")).isEqualTo("acme-transactional");

        // The messages the old version held were given back: retried through the fix, sent once
        // (the old version never sent them), never dead-lettered.
        for (String id : stuck) {
            awaitStatus(id, "SENT");
            assertThat(((Number) row(id).get("attempts")).intValue()).isGreaterThan(1);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(Upstreams.received(Upstreams.greenMail("acme-transactional"), id)).hasSize(1));
        }
        // Held until the old delay ends, then nothing more of the old version runs.
        await().atMost(Duration.ofSeconds(10)).until(() -> camel.getInflightRepository().size("chain-slow") == 0);
        for (String id : stuck) {
            assertThat(Upstreams.received(Upstreams.greenMail("acme-transactional"), id)).hasSize(1);
        }
    }

    private static Instant instant(Object column) {
        return column instanceof Timestamp timestamp ? timestamp.toInstant() : ((OffsetDateTime) column).toInstant();
    }

    private long countSubject(String prefix) {
        return jdbc.queryForObject("select count(*) from messages where subject like ?", Long.class, prefix + "%");
    }
}
