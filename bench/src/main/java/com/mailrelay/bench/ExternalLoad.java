package com.mailrelay.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A load generator that is a program of its own (wrk, smtp-source), run under bash so that its CPU
 * time is exact: bash's {@code times} prints the user and system time of its waited-for children
 * once the program has exited (the same as getrusage(RUSAGE_CHILDREN)). Its output goes to a log
 * file and is handed over line by line; a line for which {@code interruptWhen} answers true makes
 * the benchmark send the program SIGINT (wrk stops then and prints its summary). The program is
 * killed if it runs past the deadline.
 */
final class ExternalLoad {

    private static final Pattern TIME = Pattern.compile("(\\d+)m([0-9.]+)s");

    record Result(int exitCode, double cpuSeconds, List<String> output, boolean timedOut) {
    }

    private ExternalLoad() {
    }

    static Result run(List<String> command, Path log, long deadlineNanos, Predicate<String> interruptWhen)
            throws IOException, InterruptedException {
        Path times = Files.createTempFile(log.getParent(), "times-", ".txt");
        List<String> wrapped = new ArrayList<>(List.of("bash", "-c",
                "\"$@\"; rc=$?; times > \"$BENCH_TIMES\"; exit $rc", "bench-load"));
        wrapped.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(wrapped).redirectErrorStream(true);
        builder.environment().put("BENCH_TIMES", times.toString());
        Process process = builder.start();
        List<String> output = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); Writer out = Files.newBufferedWriter(log)) {
                String line;
                while ((line = in.readLine()) != null) {
                    out.write(line);
                    out.write('\n');
                    synchronized (output) {
                        output.add(line);
                    }
                    if (interruptWhen.test(line)) {
                        process.children().forEach(child -> interrupt(child.pid()));
                    }
                }
            } catch (IOException e) {
                // the program ended
            }
        }, "bench-load-output");
        reader.setDaemon(true);
        reader.start();
        boolean timedOut = false;
        try {
            long remaining = Math.max(1, deadlineNanos - System.nanoTime());
            if (!process.waitFor(remaining, TimeUnit.NANOSECONDS)) {
                timedOut = true;
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(5000);
        } finally {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
        double cpu = Double.NaN;
        List<String> lines = Files.readAllLines(times);
        Files.deleteIfExists(times);
        if (lines.size() >= 2) {            // line 1: bash itself; line 2: its children
            Matcher matcher = TIME.matcher(lines.get(1));
            cpu = 0;
            while (matcher.find()) {
                cpu += Long.parseLong(matcher.group(1)) * 60 + Double.parseDouble(matcher.group(2));
            }
        }
        synchronized (output) {
            return new Result(timedOut ? -1 : process.exitValue(), cpu, List.copyOf(output), timedOut);
        }
    }

    private static void interrupt(long pid) {
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // it exits by its deadline
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
