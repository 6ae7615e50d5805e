package com.mailrelay.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.mailrelay.MailRelayApplication;
import com.mailrelay.store.QueueStore;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The queue at depth: REST accept throughput and latency with an empty queue, then again with
 * {@code depth} messages queued (and due), plus the plan and timing of the workers' claim query
 * at that depth. The relay runs on embedded PostgreSQL with its workers off, so the queued rows
 * stay queued; every phase is bounded by its request count.
 *
 * <pre>./bench/depth.sh [depth=1000000] [clients=20] [requestsPerClient=250] [bytes=2048]</pre>
 */
public final class QueueDepthBenchmark {

    public static void main(String[] args) throws Exception {
        int depth = arg(args, 0, 1_000_000);
        int clients = arg(args, 1, 20);
        int perClient = arg(args, 2, 250);
        int bytes = arg(args, 3, 2048);

        System.setProperty(TestDatabaseEnvironment.ENGINE_PROPERTY, "postgres");
        Path routes = Files.createTempDirectory("depth-routes");
        Files.writeString(routes.resolve("dispatch.camel.yaml"), """
                - route:
                    id: dispatch
                    from:
                      uri: direct:dispatch
                      steps:
                        - log: "not delivered: the workers are off"
                """);
        try (ConfigurableApplicationContext relay = new SpringApplicationBuilder(MailRelayApplication.class)
                .run("--spring.config.location=classpath:/,classpath:/bench/", "--relay.routes.directory=" + routes,
                        "--relay.worker.enabled=false", "--relay.smtp.enabled=false", "--server.port=0",
                        "--logging.level.root=WARN", "--logging.level.com.mailrelay=WARN")) {
            int port = ((WebServerApplicationContext) relay).getWebServer().getPort();
            JdbcTemplate jdbc = relay.getBean(JdbcTemplate.class);
            Load load = new Load(port, bytes);

            System.out.println("warming up ...");
            load.run(clients, perClient);
            load.run(clients, perClient);
            // Each depth measured twice, so that a run's noise shows next to the difference.
            for (int i = 0; i < 2; i++) {
                System.out.printf("queue of %,d: %s%n", count(jdbc), load.run(clients, perClient).text());
            }
            fill(jdbc, depth);
            for (int i = 0; i < 2; i++) {
                System.out.printf("queue of %,d: %s%n", count(jdbc), load.run(clients, perClient).text());
            }

            System.out.println("\nclaim query at depth (EXPLAIN ANALYZE, rolled back):");
            List<String> plan = relay.getBean(TransactionTemplate.class).execute(tx -> {
                tx.setRollbackOnly();   // EXPLAIN ANALYZE really takes the row locks
                return jdbc.queryForList("explain (analyze, buffers) " + QueueStore.CLAIM, String.class,
                        Timestamp.from(Instant.now()), 100);
            });
            plan.forEach(System.out::println);
        }
        System.exit(0);
    }

    /**
     * Queued, due messages of another workspace, ranked for the claim by their due time a
     * millisecond apart (as V22 ranked the rows queued before it), inserted by PostgreSQL itself
     * in chunks.
     */
    private static void fill(JdbcTemplate jdbc, int depth) {
        int chunk = 100_000;
        for (int done = 0; done < depth; done += chunk) {
            int rows = Math.min(chunk, depth - done);
            jdbc.update("""
                    insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime,
                                          size_bytes, status, attempts, next_attempt_at, claim_rank, queued_at,
                                          updated_at)
                    select gen_random_uuid(), 'depth', 'transactional', 'app@depth.test', '["x@depth.test"]',
                           'queued ' || n, convert_to(repeat('x', 200), 'UTF8'), 200, 'QUEUED', 0,
                           now() - interval '1 hour', now() - interval '1 hour' + n * interval '1 millisecond',
                           now() - interval '1 hour', now() - interval '1 hour'
                      from generate_series(1, ?) as n""", rows);
            System.out.printf("\rqueued %,d of %,d", done + rows, depth);
        }
        System.out.println();
        jdbc.execute("vacuum analyze messages");
    }

    private static long count(JdbcTemplate jdbc) {
        return jdbc.queryForObject("select count(*) from messages where next_attempt_at is not null", Long.class);
    }

    /** REST clients submitting as fast as answers come back. */
    private record Load(int port, int bytes) {

        record Result(double perSecond, double p50, double p99) {
            String text() {
                return String.format("%,.0f accepts/s, p50 %.1f ms, p99 %.1f ms", perSecond, p50, p99);
            }
        }

        Result run(int clients, int perClient) throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<List<Long>>> futures = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < clients; i++) {
                futures.add(pool.submit(() -> client(perClient)));
            }
            List<Long> latencies = new ArrayList<>();
            for (Future<List<Long>> future : futures) {
                latencies.addAll(future.get());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            pool.shutdown();
            Collections.sort(latencies);
            return new Result(latencies.size() / seconds, percentile(latencies, 50), percentile(latencies, 99));
        }

        private List<Long> client(int count) throws Exception {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String body = "{\"from\":\"app@bench.test\",\"to\":[\"sink@bench.test\"],\"subject\":\"depth\",\"text\":\""
                    + "x".repeat(Math.max(0, bytes - 400)) + "\"}";
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/messages"))
                    .header("Authorization", "Bearer bench-key").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            List<Long> latencies = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long before = System.nanoTime();
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                latencies.add(System.nanoTime() - before);
                if (response.statusCode() != 202) {
                    throw new IllegalStateException("REST answered " + response.statusCode() + ": " + response.body());
                }
            }
            return latencies;
        }

        private static double percentile(List<Long> sorted, int percentile) {
            int index = Math.min(sorted.size() - 1, (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1);
            return sorted.get(index) / 1e6;
        }
    }

    private static int arg(String[] args, int index, int fallback) {
        return args.length > index ? Integer.parseInt(args[index]) : fallback;
    }
}
