package com.mailrelay.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** CPU time and memory of other processes, from Linux's /proc. */
final class ProcStats {

    /** Clock ticks per second of /proc's CPU times (getconf CLK_TCK), and whether it was read or assumed. */
    static final long TICKS_PER_SECOND;
    static final boolean TICKS_ASSUMED;

    static {
        long ticks = 100;
        boolean assumed = true;
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes()).trim();
            if (getconf.waitFor(5, TimeUnit.SECONDS) && getconf.exitValue() == 0 && out.matches("\\d+")) {
                ticks = Long.parseLong(out);
                assumed = false;
            }
        } catch (IOException | InterruptedException e) {
            // keep the usual 100
        }
        TICKS_PER_SECOND = ticks;
        TICKS_ASSUMED = assumed;
    }

    private ProcStats() {
    }

    /** Fields of /proc/PID/stat after the command name: index 0 is field 3 (state). */
    private static String[] stat(long pid) throws IOException {
        return stat(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** The same of a stat file: a process's, or one of its threads' (/proc/PID/task/TID/stat). */
    private static String[] stat(Path file) throws IOException {
        String text = Files.readString(file);
        return text.substring(text.lastIndexOf(')') + 2).split(" ");
    }

    /** User + system CPU seconds of a process (all its threads). */
    static double cpuSeconds(long pid) throws IOException {
        String[] fields = stat(pid);
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) TICKS_PER_SECOND;
    }

    /**
     * User + system CPU seconds of those threads of a process whose name (/proc/PID/task/TID/comm,
     * at most 15 characters) starts with one of {@code prefixes}: e.g. a JVM's "C2 CompilerThre".
     */
    static double threadsCpuSeconds(long pid, String... prefixes) throws IOException {
        long ticks = 0;
        List<Path> threads;
        try (Stream<Path> entries = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            threads = entries.toList();
        }
        for (Path thread : threads) {
            try {
                String name = Files.readString(thread.resolve("comm")).trim();
                if (Stream.of(prefixes).anyMatch(name::startsWith)) {
                    String[] fields = stat(thread.resolve("stat"));
                    ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                }
            } catch (IOException | RuntimeException e) {
                // the thread ended while we looked
            }
        }
        return ticks / (double) TICKS_PER_SECOND;
    }

    /**
     * CPU seconds of a PostgreSQL server: the postmaster's own, those of its exited children (the
     * kernel adds them to the postmaster's cutime/cstime once it has waited for them), and those of
     * its running children (backends, checkpointer, WAL writer ...).
     */
    static double postgresCpuSeconds(long postmaster) throws IOException {
        return familyCpuSeconds(postmaster);
    }

    /**
     * CPU seconds of a server that runs its work in child processes (PostgreSQL's postmaster,
     * Postfix's master): the parent's own, its exited children's (cutime/cstime, once it has waited
     * for them) and its running children's.
     */
    static double familyCpuSeconds(long parent) throws IOException {
        String[] own = stat(parent);
        long ticks = Long.parseLong(own[11]) + Long.parseLong(own[12]) + Long.parseLong(own[13])
                + Long.parseLong(own[14]);
        List<Path> processes;
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            processes = entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList();
        }
        for (Path process : processes) {
            try {
                String[] fields = stat(Long.parseLong(process.getFileName().toString()));
                if (Long.parseLong(fields[1]) == parent) {
                    ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                }
            } catch (IOException | RuntimeException e) {
                // the process ended while we looked
            }
        }
        return ticks / (double) TICKS_PER_SECOND;
    }

    /** Whether a process exists and has not exited (a zombie waiting for its parent counts as exited). */
    static boolean running(long pid) {
        try {
            return !stat(pid)[0].equals("Z");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The parent of a process. */
    static long parent(long pid) throws IOException {
        return Long.parseLong(stat(pid)[1]);
    }

    /** A size line of /proc/PID/status (VmHWM: peak resident set, VmRSS: current), in MB. */
    static long statusMb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
