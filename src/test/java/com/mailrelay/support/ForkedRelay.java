package com.mailrelay.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import com.mailrelay.MailRelayApplication;
import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * The relay as a process of its own, for the tests that kill it, stop it or bound its heap: a
 * child JVM running {@link MailRelayApplication} from the test class path, in a working directory
 * of its own, so that SIGKILL, SIGTERM and OutOfMemoryError hit a real process and a restart finds
 * what it left on disk.
 *
 * <p>Two configurations:
 * <ul>
 * <li>{@link Configuration#EMBEDDED_DEFAULT}: as {@code ./mvnw spring-boot:run} runs it — the
 *     project's own ./application.yml and routes/ copied into the working directory, H2 in its
 *     data/ folder (unless a database is given), mail to data/outbox;</li>
 * <li>{@link Configuration#TEST}: the test settings (application-test.yml, test-routes/) wired to
 *     this JVM's {@link Upstreams}, on a database of its own of the engine the run tests
 *     ({@link TestDatabaseEnvironment#forkedDatabase}) or one given.</li>
 * </ul>
 * HTTP and SMTP listen on free loopback ports. A port found free can be taken by another process
 * before the child binds it (the tests run in two JVMs beside a browser): a child that exits while
 * starting because a port is in use is started again on new ports, at most {@value #PORT_ATTEMPTS}
 * times. The child's output goes to relay.log in its working directory (appended across restarts).
 * A child still running when the test JVM exits is killed. The child's class path is the test
 * class path as jars, with a class data sharing archive when one could be made ({@link ChildClassPath}).
 */
public final class ForkedRelay implements AutoCloseable {

    /** The JAVA_OPTS of the Dockerfile: the memory the image runs with. */
    public static final List<String> DOCKERFILE_JAVA_OPTIONS = List.of("-Xmx192m", "-XX:+UseSerialGC",
            "-XX:ReservedCodeCacheSize=64m", "-XX:MaxMetaspaceSize=160m", "-Xss512k");

    private static final int PORT_ATTEMPTS = 3;

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly),
                "forked-relay-reaper"));
    }

    public enum Configuration { EMBEDDED_DEFAULT, TEST }

    /** A database the child connects to. */
    public record Database(String url, String user, String password) {
    }

    private final Builder settings;
    private final Path workDirectory;
    private final Path log;
    private int httpPort;
    private int smtpPort;
    private Process process;
    private long logOffsetAtLaunch;

    private ForkedRelay(Builder settings) throws IOException {
        this.settings = settings;
        this.workDirectory = settings.workDirectory != null ? settings.workDirectory
                : Files.createTempDirectory("forked-relay-");
        this.log = workDirectory.resolve("relay.log");
        this.httpPort = freePort();
        this.smtpPort = freePort();
        if (settings.configuration == Configuration.EMBEDDED_DEFAULT) {
            prepareEmbeddedDefault();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How the child is started; {@link #start()} makes it. */
    public static final class Builder {

        private Configuration configuration = Configuration.TEST;
        private final List<String> javaOptions = new ArrayList<>(List.of("-Xmx512m"));
        private final Map<String, String> properties = new LinkedHashMap<>();
        private Database database;
        private Path workDirectory;
        private List<String> classOptions;

        public Builder configuration(Configuration configuration) {
            this.configuration = configuration;
            return this;
        }

        /** JVM options instead of the default {@code -Xmx512m} (e.g. {@link #DOCKERFILE_JAVA_OPTIONS}). */
        public Builder javaOptions(List<String> options) {
            javaOptions.clear();
            javaOptions.addAll(options);
            return this;
        }

        /** A setting, as on the command line ({@code --name=value}): it outranks every file. */
        public Builder property(String name, String value) {
            properties.put(name, value);
            return this;
        }

        public Builder database(Database database) {
            this.database = database;
            return this;
        }

        /** The class path options instead of {@link ChildClassPath}'s (its training child's). */
        Builder classOptions(List<String> options) {
            this.classOptions = List.copyOf(options);
            return this;
        }

        /** The working directory of an earlier child, to restart on its files. */
        public Builder workDirectory(Path directory) {
            this.workDirectory = directory;
            return this;
        }

        /** Starts the child (it is not yet ready: see {@link ForkedRelay#awaitReady}). */
        public ForkedRelay start() {
            try {
                ForkedRelay relay = new ForkedRelay(this);
                relay.launch();
                return relay;
            } catch (IOException e) {
                throw new UncheckedIOException("could not start a relay process", e);
            }
        }
    }

    /** A child like this one on the same working directory, database and ports' kind: a restart after a kill. */
    public ForkedRelay restart() {
        if (alive()) {
            throw new IllegalStateException("the relay process is still running: kill or stop it first");
        }
        try {
            launch();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("could not restart the relay process", e);
        }
    }

    private void launch() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(settings.javaOptions);
        // The child must not make a test database of its own (TestDatabaseEnvironment): it is given one.
        command.add("-D" + TestDatabaseEnvironment.ENGINE_PROPERTY + "=" + TestDatabaseEnvironment.NONE);
        command.addAll(settings.classOptions != null ? settings.classOptions : ChildClassPath.options());
        command.add(MailRelayApplication.class.getName());
        arguments().forEach((name, value) -> command.add("--" + name + "=" + value));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDirectory.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().remove("SPRING_PROFILES_ACTIVE");
        builder.environment().remove("SPRING_APPLICATION_JSON");
        builder.environment().keySet().removeIf(name -> name.startsWith("RELAY_"));
        logOffsetAtLaunch = Files.exists(log) ? Files.size(log) : 0;
        process = builder.start();
        RUNNING.add(process);
        process.onExit().thenAccept(RUNNING::remove);
    }

    private Map<String, String> arguments() {
        Map<String, String> arguments = new LinkedHashMap<>();
        if (settings.configuration == Configuration.TEST) {
            arguments.put("spring.config.location", "classpath:/");
            arguments.put("spring.profiles.active", "test");
            arguments.putAll(Upstreams.properties());
            arguments.put("relay.workspaces.esp.inbound.sendgrid-public-key", ProviderKeys.sendgridPublicKey());
            arguments.put("relay.routes.directory",
                    Path.of("src/test/resources/test-routes").toAbsolutePath().toString());
            arguments.put("relay.smtp.tls.generated-key-store", workDirectory.resolve("smtp-tls.p12").toString());
            arguments.put("relay.outbox.directory", workDirectory.resolve("outbox").toString());
        }
        Database database = settings.database != null ? settings.database
                : settings.configuration == Configuration.TEST
                        ? TestDatabaseEnvironment.forkedDatabase(workDirectory) : null;
        if (database != null) {
            arguments.put("spring.datasource.url", database.url());
            arguments.put("spring.datasource.username", database.user());
            arguments.put("spring.datasource.password", database.password());
        }
        arguments.put("server.address", "127.0.0.1");
        arguments.put("server.port", Integer.toString(httpPort));
        arguments.put("relay.smtp.bind-address", "127.0.0.1");
        arguments.put("relay.smtp.port", Integer.toString(smtpPort));
        arguments.putAll(settings.properties);
        return arguments;
    }

    /** The project's ./application.yml and routes/, as the README's first command uses them. */
    private void prepareEmbeddedDefault() throws IOException {
        Path project = Path.of("").toAbsolutePath();
        Files.copy(project.resolve("application.yml"), workDirectory.resolve("application.yml"),
                StandardCopyOption.REPLACE_EXISTING);
        Path routes = Files.createDirectories(workDirectory.resolve("routes"));
        try (Stream<Path> files = Files.list(project.resolve("routes"))) {
            for (Path file : files.toList()) {
                Files.copy(file, routes.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    public Path workDirectory() {
        return workDirectory;
    }

    public int httpPort() {
        return httpPort;
    }

    public int smtpPort() {
        return smtpPort;
    }

    /** {@code http://127.0.0.1:<port>} followed by {@code path}. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /**
     * Waits until /actuator/health answers UP, failing at once if the process exits — unless one of
     * its ports was taken meanwhile (the child then exits, or stays up without its SMTP listener and
     * reports DOWN), when it is stopped and started again on new ports.
     */
    public ForkedRelay awaitReady(Duration timeout) {
        for (int attempt = 1; ; attempt++) {
            try {
                return awaitHealthy(timeout);
            } catch (PortTaken e) {
                if (attempt == PORT_ATTEMPTS) {
                    throw new IllegalStateException("a port of the relay was taken by another process "
                            + attempt + " times in a row:\n" + tail(40));
                }
                kill();
                try {
                    httpPort = freePort();
                    smtpPort = freePort();
                    launch();
                } catch (IOException io) {
                    throw new UncheckedIOException("could not start the relay process again", io);
                }
            }
        }
    }

    /** The child could not bind one of its ports: another process took it after it was found free. */
    private static final class PortTaken extends RuntimeException {
        PortTaken() {
            super("a port of the relay is in use", null, false, false);
        }
    }

    private boolean portTakenInThisLaunch() {
        try {
            byte[] all = Files.readAllBytes(log);
            int from = (int) Math.min(logOffsetAtLaunch, all.length);
            String output = new String(all, from, all.length - from, StandardCharsets.UTF_8);
            return output.contains("already in use");
        } catch (IOException e) {
            return false;
        }
    }

    private ForkedRelay awaitHealthy(Duration timeout) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(uri("/actuator/health")).timeout(Duration.ofSeconds(5))
                .GET().build();
        AtomicReference<String> last = new AtomicReference<>("no answer");
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (portTakenInThisLaunch()) {
                    throw new PortTaken();
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("the relay exited with code " + process.exitValue()
                            + " while starting:\n" + tail(40));
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
            throw new IllegalStateException("the relay was not ready within " + timeout.toSeconds()
                    + " s (last answer: " + last.get() + "):\n" + tail(40), e);
        }
        return this;
    }

    /** SIGKILL: the process ends at once, nothing of its own shutdown runs. Waits for it to be gone. */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(10));
    }

    /** SIGTERM: the process's graceful shutdown runs; use {@link #awaitExit} to wait for it. */
    public void terminate() {
        if (process != null) {
            process.destroy();
        }
    }

    /** Waits for the process to end and returns its exit code (143 after SIGTERM's default, 137 after SIGKILL). */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the relay process did not exit within " + timeout.toSeconds()
                        + " s:\n" + tail(40));
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The child's output so far. */
    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The last lines of the child's output. */
    public String tail(int lines) {
        List<String> all = log().lines().toList();
        return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Kills the process if it still runs (SIGKILL). */
    @Override
    public void close() {
        if (alive()) {
            kill();
        }
    }

    /**
     * A loopback port free at this moment, drawn below the kernel's ephemeral range (32768 and up on
     * Linux), where the source ports of the tests' own outgoing connections and the ports of
     * {@code new ServerSocket(0)} come from; so only another test's choice can take it before the
     * child binds it (which {@link #awaitReady} survives).
     */
    public static int freePort() throws IOException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int tries = 0; tries < 50; tries++) {
            int port = random.nextInt(20_000, 32_000);
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return socket.getLocalPort();
            } catch (IOException inUse) {
                // taken: draw another
            }
        }
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
