package com.mailrelay.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * A private Postfix instance for the comparison phases: its own main.cf and master.cf, queue and
 * data directories in a fresh temporary directory, started with {@code postfix -c <dir> start}.
 * It changes nothing of the system's Postfix: not its configuration directory, not its queue, not
 * a running instance ({@code postfix start} only reads the default main.cf, for
 * {@code multi_instance_directories}, and {@code postfix-files}, and creates the queue's
 * subdirectories under this instance's own queue directory). Its smtpd listens
 * on a free loopback port and takes mail from 127.0.0.0/8 without authentication; everything it
 * accepts goes to {@code relayhost = [127.0.0.1]:<sink port>}, the benchmark's sink, without DNS
 * lookups (a bracketed address, {@code smtp_dns_support_level = disabled}, no reverse lookup of
 * clients). It logs to {@code maillog} in its directory. {@link #close()} stops it (bounded, with
 * {@code postfix abort} and SIGKILL as fallbacks) and removes the directory.
 *
 * <p>Postfix must run as root (its master runs as root, its daemons as {@code mail_owner}).
 */
final class PostfixInstance implements AutoCloseable {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    /**
     * The services of the stock master.cf (Postfix 3.x) that relaying needs, none chrooted (a
     * chroot would need copies of system files in the queue directory). The smtpd line comes first.
     */
    private static final String SERVICES = """
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            proxywrite unix -       -       n       -       1       proxymap
            smtp      unix  -       -       n       -       -       smtp
            relay     unix  -       -       n       -       -       smtp
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd
            """;

    final Path directory;
    final Path log;
    final int smtpPort;
    final String version;
    private volatile long masterPid = -1;
    private final Path postfix;
    private final Path configDirectory;
    private boolean closed;

    /**
     * Why Postfix cannot be used here, or null when it can: the {@code postfix} and {@code postconf}
     * commands on the PATH (or in /usr/sbin), and this process running as root.
     */
    static String unavailable() {
        if (RelayBenchmark.onPath("postfix") == null || RelayBenchmark.onPath("postconf") == null) {
            return "Postfix is not installed (no postfix/postconf on the PATH or in /usr/sbin)";
        }
        if (!root()) {
            return "Postfix is installed, but a private instance needs root and the benchmark runs as another user";
        }
        return null;
    }

    /** Starts an instance relaying to {@code sinkPort}; waits (bounded) until its smtpd greets. */
    static PostfixInstance start(int sinkPort, int concurrency) throws IOException,
            InterruptedException {
        Path directory = Files.createTempDirectory("postfix-bench-");
        PostfixInstance instance;
        try {
            instance = new PostfixInstance(directory, sinkPort, concurrency);
        } catch (IOException | RuntimeException e) {
            deleteTree(directory);
            throw e;
        }
        try {
            instance.launch();
            return instance;
        } catch (IOException | InterruptedException | RuntimeException e) {
            instance.close();
            throw e;
        }
    }

    private PostfixInstance(Path directory, int sinkPort, int concurrency)
            throws IOException {
        this.directory = directory;
        this.postfix = RelayBenchmark.onPath("postfix");
        Path postconf = RelayBenchmark.onPath("postconf");
        // The daemons run as mail_owner and must reach the queue under this directory.
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        configDirectory = Files.createDirectory(directory.resolve("etc"));
        Path queue = Files.createDirectory(directory.resolve("queue"));   // its subdirectories: postfix start
        Files.setPosixFilePermissions(configDirectory, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(queue, PosixFilePermissions.fromString("rwxr-xr-x"));
        log = directory.resolve("maillog");
        smtpPort = freePort();
        String main = """
                # A private instance for the benchmark: relays everything from loopback to its sink.
                compatibility_level = 3.6
                queue_directory = %1$s/queue
                data_directory = %1$s/data
                maillog_file = %2$s
                maillog_file_prefixes = %1$s
                syslog_name = postfix-bench
                myhostname = postfix.bench.test
                inet_interfaces = 127.0.0.1
                inet_protocols = ipv4
                mynetworks = 127.0.0.0/8
                mydestination =
                local_recipient_maps =
                local_transport = error:local delivery is disabled
                alias_maps =
                alias_database =
                biff = no
                relayhost = [127.0.0.1]:%3$d
                smtp_dns_support_level = disabled
                # no reverse lookup of the client's address (the relay does none either)
                smtpd_peername_lookup = no
                smtp_host_lookup = native
                smtp_tls_security_level = none
                default_process_limit = 100
                default_destination_concurrency_limit = %4$d
                """.formatted(directory, log, sinkPort, concurrency);
        Files.writeString(configDirectory.resolve("main.cf"), main);
        Files.writeString(configDirectory.resolve("master.cf"),
                "127.0.0.1:" + smtpPort + " inet n       -       n       -       -       smtpd\n" + SERVICES);
        for (String file : List.of("main.cf", "master.cf")) {
            Files.setPosixFilePermissions(configDirectory.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
        }
        String mailVersion;
        try {
            mailVersion = run(List.of(postconf.toString(), "-c", configDirectory.toString(), "-h", "mail_version"))
                    .trim();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            mailVersion = "?";
        }
        version = mailVersion;
    }

    /** {@code postfix start}, then waits (at most 30 s) for master.pid and the smtpd's greeting. */
    private void launch() throws IOException, InterruptedException {
        String started = run(List.of(postfix.toString(), "-c", configDirectory.toString(), "start"));
        Path pidFile = directory.resolve("queue").resolve("pid").resolve("master.pid");
        AtomicReference<String> last = new AtomicReference<>("no master.pid");
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try {
                    if (masterPid < 0 && Files.exists(pidFile)) {
                        masterPid = Long.parseLong(Files.readString(pidFile).trim());
                    }
                    if (masterPid > 0) {
                        try (SmtpClient probe = new SmtpClient(smtpPort, 2000)) {
                            probe.quit();
                        }
                        return true;
                    }
                } catch (IOException | NumberFormatException e) {
                    last.set(e.toString());
                }
                return false;
            });
        } catch (ConditionTimeoutException e) {
            throw new IOException("Postfix did not greet on 127.0.0.1:" + smtpPort + " within 30 s (" + last.get()
                    + "; postfix start said: " + started.trim() + "); its log:\n" + tail(20));
        }
    }

    long masterPid() {
        return masterPid;
    }

    boolean alive() {
        return masterPid > 0 && ProcStats.running(masterPid);
    }

    /** CPU seconds of the master and all its processes, exited ones included. */
    double cpuSeconds() {
        try {
            return ProcStats.familyCpuSeconds(masterPid);
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    /** The last lines of the instance's log. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no Postfix log: " + e.getMessage() + ")";
        }
    }

    /** Copies the instance's log to {@code target} (to keep it after a run that went wrong). */
    void keepLog(Path target) {
        try {
            Files.copy(log, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // nothing to keep
        }
    }

    /**
     * Stops the instance: {@code postfix -c <dir> stop}, and if the master still runs 15 s later,
     * {@code postfix abort} and SIGKILL to the master and its processes. Then removes the
     * directory. Idempotent; bounded.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<ProcessHandle> family = new ArrayList<>();
        ProcessHandle.of(masterPid > 0 ? masterPid : Long.MAX_VALUE).ifPresent(master -> {
            family.add(master);
            master.children().forEach(family::add);
        });
        try {
            run(List.of(postfix.toString(), "-c", configDirectory.toString(), "stop"));
        } catch (IOException | InterruptedException e) {
            System.out.println("postfix stop: " + e.getMessage());
        }
        if (!awaitExit(family, Duration.ofSeconds(15))) {
            System.out.println("Postfix (master pid " + masterPid + ") still running 15 s after postfix stop: "
                    + "aborting it");
            try {
                run(List.of(postfix.toString(), "-c", configDirectory.toString(), "abort"));
            } catch (IOException | InterruptedException e) {
                // killed below
            }
            family.forEach(ProcessHandle::destroyForcibly);
            awaitExit(family, Duration.ofSeconds(5));
        }
        deleteTree(directory);
    }

    private static boolean awaitExit(List<ProcessHandle> processes, Duration timeout) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(50))
                    .until(() -> processes.stream().noneMatch(p -> ProcStats.running(p.pid())));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Runs a Postfix command (bounded); returns its output, or throws with it when it failed. */
    private String run(List<String> command) throws IOException, InterruptedException {
        Path output = Files.createTempFile(directory, "command-", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within "
                        + COMMAND_TIMEOUT.toSeconds() + " s");
            }
            String text = Files.readString(output, StandardCharsets.ISO_8859_1);
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": "
                        + text.trim());
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static boolean root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.substring(4).trim().split("\\s+")[1].equals("0");     // the effective uid
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // left behind in the temporary directory
        }
    }
}
