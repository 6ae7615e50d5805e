package com.mailrelay.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * The relay under test, as a process of its own: {@code java -Xmx<heap> -jar <boot jar>} with the
 * {@code postgres} profile, in a fresh working directory that holds its application.yml (from
 * {@code bench/application.yml} on the classpath), the project's application-postgres.yml and a
 * routes folder whose dispatch route sends everything to the sink. HTTP and SMTP listen on free
 * loopback ports. Its output goes to relay.log in that directory.
 */
final class RelayProcess implements AutoCloseable {

    /** The recipient domain of the backlog phase's messages, which go through a provider of their own. */
    static final String BACKLOG_DOMAIN = "backlog.bench.test";

    final Path workDirectory;
    final Path log;
    final int httpPort;
    final int smtpPort;
    private final Process process;

    /**
     * How the relay is run: {@code heap} its -Xmx (blank: none, as when {@code javaOptions} are the
     * Dockerfile's, which set it), {@code arguments} more Spring properties ({@code --name=value}).
     */
    record Settings(Path jar, String heap, List<String> javaOptions, int workerThreads, int poolSize,
                    String logLevel, List<String> arguments) {
        Settings withArguments(List<String> more) {
            List<String> all = new ArrayList<>(arguments);
            all.addAll(more);
            return new Settings(jar, heap, javaOptions, workerThreads, poolSize, logLevel, all);
        }
    }

    RelayProcess(Settings settings, String jdbcUrl, String dbUser, String dbPassword, int sinkPort)
            throws IOException {
        workDirectory = Files.createTempDirectory("relay-bench-");
        log = workDirectory.resolve("relay.log");
        try (InputStream yml = RelayProcess.class.getResourceAsStream("/bench/application.yml")) {
            if (yml == null) {
                throw new IllegalStateException("bench/application.yml is not on the classpath");
            }
            Files.write(workDirectory.resolve("application.yml"), yml.readAllBytes());
        }
        Files.copy(Path.of("application-postgres.yml"), workDirectory.resolve("application-postgres.yml"));
        Path routes = Files.createDirectories(workDirectory.resolve("routes"));
        Files.writeString(routes.resolve("dispatch.camel.yaml"), """
                # Every message to the benchmark's SMTP sink: the backlog phase's (sent to
                # backlog.bench.test, which the sink defers) through a provider of its own, the rest
                # through provider-sink. Each has its own breaker: a backlog of 100,000 deferrals
                # fills any window with failures, and would open the breaker the new mail goes
                # through (as it should, for a provider that defers everything).
                - route:
                    id: dispatch
                    from:
                      uri: direct:dispatch
                      steps:
                        - choice:
                            when:
                              - simple: "${header.relayRecipientDomains} == '%s'"
                                steps:
                                  - to: direct:provider-backlog
                            otherwise:
                              steps:
                                - to: direct:provider-sink
                - templatedRoute:
                    routeTemplateRef: smtp
                    routeId: provider-sink
                    parameters:
                      - {name: providerId, value: sink}
                      - {name: host, value: 127.0.0.1}
                      - {name: port, value: "%d"}
                      # The breaker judges only over a window of 100,000 calls (resilience4j caps the
                      # minimum at the window's size), far more than a phase's failures.
                      - {name: minimumNumberOfCalls, value: "100000"}
                      - {name: slidingWindowSize, value: "100000"}
                - templatedRoute:
                    routeTemplateRef: smtp
                    routeId: provider-backlog
                    parameters:
                      - {name: providerId, value: backlog}
                      - {name: host, value: 127.0.0.1}
                      - {name: port, value: "%d"}
                      # Opens only when all of a window of 100,000 calls failed: after the last of a
                      # 100,000-message backlog was deferred, if ever.
                      - {name: failureRateThreshold, value: "100"}
                      - {name: minimumNumberOfCalls, value: "100000"}
                      - {name: slidingWindowSize, value: "100000"}
                """.formatted(BACKLOG_DOMAIN, sinkPort, sinkPort));
        httpPort = freePort();
        smtpPort = freePort();

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (!settings.heap().isBlank()) {
            command.add("-Xmx" + settings.heap());
        }
        command.addAll(settings.javaOptions());
        command.addAll(List.of("-jar", settings.jar().toAbsolutePath().toString(),
                "--spring.profiles.active=postgres",
                "--server.port=" + httpPort,
                "--relay.smtp.port=" + smtpPort,
                "--relay.worker.threads=" + settings.workerThreads(),
                "--logging.level.root=" + settings.logLevel(),
                "--logging.level.com.mailrelay=" + settings.logLevel()));
        command.addAll(settings.arguments());
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDirectory.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("RELAY_DB_URL", jdbcUrl);
        environment.put("RELAY_DB_USER", dbUser);
        environment.put("RELAY_DB_PASSWORD", dbPassword);
        environment.put("RELAY_DB_POOL_SIZE", Integer.toString(settings.poolSize()));
        environment.remove("SPRING_PROFILES_ACTIVE");
        environment.remove("SPRING_APPLICATION_JSON");
        process = builder.start();
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Waits (at most {@code timeout}) until /actuator/health says UP. */
    void awaitHealthy(Duration timeout) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        AtomicReference<String> last = new AtomicReference<>("no answer");
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the relay exited with code " + process.exitValue()
                            + " while starting");
                }
                try {
                    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                    last.set(response.statusCode() + " " + response.body());
                    return response.statusCode() == 200 && response.body().contains("\"UP\"");
                } catch (IOException e) {
                    last.set(e.toString());
                    return false;
                }
            });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("the relay was not healthy within " + timeout.toSeconds() + " s (last: "
                    + last.get() + ")");
        }
    }

    /** The last lines of the relay's output. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the relay: SIGTERM (graceful shutdown), then SIGKILL after 20 s. Idempotent. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Removes the working directory (after a run that went well). */
    void deleteWorkDirectory() {
        try (Stream<Path> files = Files.walk(workDirectory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // left behind in the temporary directory
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
