package com.mailrelay.flow;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.support.FaultUpstream;
import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.TestDatabaseEnvironment;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault suite: two relay processes on one PostgreSQL take a steady REST load while, in turn,
 * one of them is SIGKILLed (and restarted), PostgreSQL is restarted, the upstream answers 451 for
 * a while, the upstream accepts connections and never answers, and the webhook receiver is down.
 * At the end every accepted message (202) is delivered at least once and recorded exactly once
 * (one SENT row, one send event, its webhook delivered), nothing is left SENDING, QUEUED or
 * DEFERRED, and the duplicates at the upstream are no more than the messages in flight at the
 * kill and at the database restart. The figures per fault are printed and written to
 * target/fault-suite.txt.
 *
 * <p>It needs a PostgreSQL of its own (it restarts it), so it runs once, in the PostgreSQL
 * execution of the suite; the H2 execution does not run it.
 */
@EnabledIfSystemProperty(named = TestDatabaseEnvironment.ENGINE_PROPERTY, matches = "postgres",
        disabledReason = "runs once, on a PostgreSQL of its own, in the postgres execution of the suite")
class FaultSuiteTest {

    private static final Duration PHASE = Duration.ofSeconds(4);
    private static final int MAX_MESSAGES = 12000;
    private static final Pattern ACCEPTED_ID = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"");

    /** What was accepted while each fault was in force: id → phase. */
    private final Map<String, String> accepted = new ConcurrentHashMap<>();
    private final AtomicReference<String> phase = new AtomicReference<>("steady");
    private final Map<String, Integer> inFlightAtFault = new LinkedHashMap<>();
    private final List<String> phases = new ArrayList<>(List.of("steady"));

    @Test
    void everyAcceptedMessageIsDeliveredAndRecordedOnceThroughEveryFault() throws Exception {
        Path work = Files.createTempDirectory("fault-suite-");
        int pgPort = ForkedRelay.freePort();
        Path pgData = work.resolve("pgdata");
        EmbeddedPostgres postgres = startPostgres(pgPort, pgData);
        String url = "jdbc:postgresql://127.0.0.1:" + pgPort + "/faults?user=postgres";
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres",
                "postgres", ""); Statement s = c.createStatement()) {
            s.execute("create database faults");
        }
        int webhookPort = ForkedRelay.freePort();
        WireMockServer webhooks = webhookReceiver(webhookPort);
        Path routes = writeRoutes(work, 0);
        try (FaultUpstream upstream = new FaultUpstream()) {
            writeRoutes(work, upstream.port());
            ForkedRelay.Database database = new ForkedRelay.Database(url, "postgres", "");
            ForkedRelay a = relay(work.resolve("a"), database, routes, webhookPort);
            ForkedRelay b = relay(work.resolve("b"), database, routes, webhookPort);
            ExecutorService load = Executors.newFixedThreadPool(8);
            AtomicBoolean loading = new AtomicBoolean(true);
            try (a; b) {
                a.awaitReady(Duration.ofSeconds(180));
                b.awaitReady(Duration.ofSeconds(180));
                List<ForkedRelay> relays = List.of(a, b);
                AtomicInteger sent = new AtomicInteger();
                for (int client = 0; client < 8; client++) {
                    int first = client;
                    load.execute(() -> submitLoop(relays, first, loading, sent));
                }

                during("steady", PHASE);

                inFlightAtFault.put("sigkill", inFlight(url, "lease_owner like '%/" + a.pid() + "/%'"));
                phase.set("sigkill");
                a.kill();
                during("sigkill", PHASE);
                a.restart();                     // it comes back while the others go on

                inFlightAtFault.put("postgres-restart", inFlight(url, "true"));
                phase.set("postgres-restart");
                postgres.close();
                during("postgres-restart", Duration.ofSeconds(3));
                postgres = startPostgres(pgPort, pgData);
                during("postgres-restart", PHASE);

                phase.set("upstream-451");
                upstream.mode(FaultUpstream.Mode.TEMPFAIL);
                during("upstream-451", PHASE);
                upstream.mode(FaultUpstream.Mode.ACCEPT);

                phase.set("upstream-silent");
                upstream.mode(FaultUpstream.Mode.SILENT);
                during("upstream-silent", PHASE);
                upstream.mode(FaultUpstream.Mode.ACCEPT);

                phase.set("webhook-down");
                webhooks.stop();
                collectWebhooks(webhooks);       // after the stop: no post can slip in between
                during("webhook-down", PHASE);
                webhooks = webhookReceiver(webhookPort);

                during("steady-end", Duration.ofSeconds(2));
                loading.set(false);
                load.shutdown();
                assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
                a.awaitReady(Duration.ofSeconds(120));

                // Everything drains: no message left to do, and every send event taken by the receiver.
                await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                        .untilAsserted(() -> assertThat(count(url, "select count(*) from messages"
                                + " where status in ('QUEUED', 'SENDING', 'DEFERRED')")).isZero());
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                        .untilAsserted(() -> assertThat(count(url, "select count(*) from events"
                                + " where type = 'send' and delivery_state <> 'DELIVERED'")).isZero());
                check(url, upstream.copies(), webhooks, sent.get());
            } finally {
                loading.set(false);
                load.shutdownNow();
                webhooks.stop();
                postgres.close();
            }
        }
    }

    /** The ids of the messages whose send event a receiver took (kept across its restarts). */
    private final Set<String> hooked = ConcurrentHashMap.newKeySet();

    private void collectWebhooks(WireMockServer receiver) {
        for (LoggedRequest request : receiver.findAll(postRequestedFor(anyUrl()))) {
            for (JsonNode event : MandrillPosts.events(request.getBodyAsString())) {
                if ("send".equals(event.path("event").asText())) {
                    hooked.add(event.path("_id").asText());
                }
            }
        }
    }

    private void check(String url, Map<String, Integer> copies, WireMockServer webhooks, int attempts)
            throws SQLException {
        assertThat(accepted).hasSizeGreaterThan(100);
        Map<String, String> status = new HashMap<>();
        Map<String, Integer> sendEvents = new HashMap<>();
        try (Connection c = DriverManager.getConnection(url);
             Statement s = c.createStatement();
             ResultSet rows = s.executeQuery("select m.id, m.status, (select count(*) from events e"
                     + " where e.message_id = m.id and e.type = 'send') as sends from messages m")) {
            while (rows.next()) {
                status.put(rows.getString(1), rows.getString(2));
                sendEvents.put(rows.getString(1), rows.getInt(3));
            }
        }
        collectWebhooks(webhooks);
        Map<String, int[]> figures = new LinkedHashMap<>();   // phase → accepted, delivered, duplicates
        phases.forEach(name -> figures.put(name, new int[3]));
        List<String> problems = new ArrayList<>();
        int duplicates = 0;
        for (var entry : accepted.entrySet()) {
            String id = entry.getKey();
            int[] row = figures.computeIfAbsent(entry.getValue(), p -> new int[3]);
            row[0]++;
            int taken = copies.getOrDefault(id, 0);
            if (taken > 0) {
                row[1]++;
                row[2] += taken - 1;
                duplicates += taken - 1;
            }
            if (taken == 0) {
                problems.add(id + " never reached the upstream");
            }
            if (!"SENT".equals(status.get(id))) {
                problems.add(id + " is " + status.get(id) + ", not SENT");
            }
            if (sendEvents.getOrDefault(id, 0) != 1) {
                problems.add(id + " has " + sendEvents.getOrDefault(id, 0) + " send events");
            }
            if (!hooked.contains(id)) {
                problems.add(id + " never reached the webhook receiver");
            }
        }
        int bound = inFlightAtFault.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder report = new StringBuilder("fault suite: " + attempts + " submissions, " + accepted.size()
                + " accepted (202), " + status.size() + " rows\n");
        report.append(String.format("%-18s %9s %10s %11s%n", "accepted during", "accepted", "delivered",
                "duplicates"));
        figures.forEach((name, row) -> report.append(String.format("%-18s %9d %10d %11d%n", name, row[0], row[1],
                row[2])));
        report.append("in flight at each fault (the bound on duplicates): ").append(inFlightAtFault).append('\n');
        System.out.print(report);
        try {
            Files.writeString(Path.of("target", "fault-suite.txt"), report);
        } catch (IOException ignored) {
            // the figures are on stdout too
        }
        assertThat(problems).as(report.toString()).isEmpty();
        assertThat(duplicates).as(report.toString()).isLessThanOrEqualTo(bound);
        assertThat(status.values()).as("every row, answered or not, ends SENT").allMatch("SENT"::equals);
    }

    private void submitLoop(List<ForkedRelay> relays, int first, AtomicBoolean loading, AtomicInteger sent) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        int turn = first;
        while (loading.get() && sent.get() < MAX_MESSAGES) {
            ForkedRelay relay = relays.get(turn++ % relays.size());
            String current = phase.get();
            int n = sent.incrementAndGet();
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(relay.uri("/api/v1/messages"))
                        .timeout(Duration.ofSeconds(15))
                        .header("Authorization", "Bearer hooked-key")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"from\": \"app@faults.test\", \"to\": [\"r" + n
                                + "@example.org\"], \"subject\": \"fault " + n + "\", \"text\": \"during " + current
                                + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 202) {
                    Matcher id = ACCEPTED_ID.matcher(response.body());
                    if (id.find()) {
                        accepted.put(id.group(1), current);
                    }
                } else {
                    pause();                     // 503 while the database is down: a client backs off
                }
            } catch (IOException e) {
                pause();                         // the relay is down: a client tries again later
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lets the load run for a while under the current fault. */
    private void during(String name, Duration duration) {
        if (!phases.contains(name)) {
            phases.add(name);
        }
        phase.set(name);
        long until = System.nanoTime() + duration.toNanos();
        await().atMost(duration.plusSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> System.nanoTime() - until >= 0);
    }

    private static ForkedRelay relay(Path directory, ForkedRelay.Database database, Path routes, int webhookPort)
            throws IOException {
        Files.createDirectories(directory);
        return ForkedRelay.builder()
                .workDirectory(directory)
                .database(database)
                .property("relay.routes.directory", routes.toString())
                .property("relay.routes.reload-enabled", "false")
                .property("test.webhook.port", Integer.toString(webhookPort))
                // A killed instance's messages come back after the lease; a long send renews it.
                .property("relay.worker.lease", "5s")
                .property("relay.worker.threads", "8")
                // Enough attempts to outlast every fault: the suite is about nothing lost, not about giving up.
                .property("relay.retry.max-attempts", "200")
                .property("relay.retry.max-age", "1h")
                .property("relay.retry.initial-backoff", "300ms")
                .property("relay.retry.multiplier", "1.5")
                .property("relay.retry.max-backoff", "2s")
                // Webhooks failed while the receiver was down are posted again soon after it is back
                // (by default they would wait up to minutes of backoff, and the drain with them).
                .property("relay.webhooks.initial-backoff", "300ms")
                .property("relay.webhooks.max-backoff", "2s")
                // While PostgreSQL is down an accept fails in 2 s (503), not after Hikari's 30 s.
                .property("spring.datasource.hikari.connection-timeout", "2000")
                .start();
    }

    /** dispatch → one smtp provider on the fault upstream, with a short timeout and a quick breaker. */
    private static Path writeRoutes(Path work, int upstreamPort) throws IOException {
        Path routes = Files.createDirectories(work.resolve("routes"));
        Files.writeString(routes.resolve("dispatch.camel.yaml"), """
                - route:
                    id: dispatch
                    from:
                      uri: direct:dispatch
                      steps:
                        - to: direct:provider-faults
                - templatedRoute:
                    routeTemplateRef: smtp
                    routeId: provider-faults
                    parameters:
                      - {name: providerId, value: faults}
                      - {name: host, value: 127.0.0.1}
                      - {name: port, value: "%d"}
                      - {name: timeoutMillis, value: "2000"}
                      - {name: waitDurationInOpenState, value: "1"}
                """.formatted(upstreamPort));
        return routes;
    }

    private static WireMockServer webhookReceiver(int port) {
        WireMockServer server = new WireMockServer(WireMockConfiguration.options().port(port)
                .bindAddress("127.0.0.1"));
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)));
        return server;
    }

    private static EmbeddedPostgres startPostgres(int port, Path data) throws IOException {
        return EmbeddedPostgres.builder().setPort(port).setDataDirectory(data).setCleanDataDirectory(false).start();
    }

    private static int inFlight(String url, String condition) throws SQLException {
        return count(url, "select count(*) from messages where status = 'SENDING' and " + condition);
    }

    private static int count(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement s = c.prepareStatement(sql);
             ResultSet result = s.executeQuery()) {
            result.next();
            return result.getInt(1);
        }
    }
}
