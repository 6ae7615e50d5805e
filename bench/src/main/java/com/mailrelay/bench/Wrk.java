package com.mailrelay.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code POST /api/v1/messages} driven by wrk (closed loop: each connection sends its next request
 * when the previous one was answered), for a fixed number of requests. wrk runs for a duration, so
 * its Lua script counts the answers of each of its threads and stops the thread at its share; once
 * every thread has stopped, the benchmark sends wrk SIGINT and wrk prints its summary. Each request
 * body is the phase's template with the marker of its sequence number (thread + threads × n) in the
 * Subject. The script reports 202s, other answers (and the first of them), and wrk's latency
 * percentiles; the requests still in flight when a thread stops (at most one per connection) are
 * not counted as accepted, although the relay may well take and deliver them.
 */
final class Wrk {

    private static final Pattern RESULT = Pattern.compile("(\\w+)=(\\S+)");
    static final String THREAD_DONE = "BENCH-THREAD-DONE";
    static final String RESULT_LINE = "BENCH-RESULT";

    private Wrk() {
    }

    /** Whether wrk is on the PATH. */
    static boolean installed() {
        return RelayBenchmark.onPath("wrk") != null;
    }

    /** The phase's capacity for sequence numbers: what wrk may send (its share plus one in flight per connection). */
    static int capacity(int total, int threads, int connections) {
        int perThread = (total + threads - 1) / threads;
        int connectionsPerThread = (connections + threads - 1) / threads;
        return threads * (perThread + connectionsPerThread + 1);
    }

    /**
     * Runs wrk against {@code url} until {@code phase.total} requests were answered (or the
     * phase's deadline): marks the accepted count, the errors, the latency percentiles wrk measured
     * and wrk's CPU time on the phase.
     */
    static void run(Phase phase, String url, String apiKey, Messages bodies, int threads, int connections,
                    Path directory, Runnable begin) throws IOException, InterruptedException {
        String template = new String(bodies.template(), StandardCharsets.US_ASCII);
        String prefix = template.substring(0, bodies.markerOffset());
        String suffix = template.substring(bodies.markerOffset() + Phase.MARKER_LENGTH);
        Path script = directory.resolve("wrk-" + phase.id + ".lua");
        Files.writeString(script, """
                -- written by the benchmark: POST with a marked body, stop each thread at its share
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                wrk.headers["Authorization"] = "Bearer %s"
                local prefix = [==[%s]==]
                local suffix = [==[%s]==]
                local created = {}
                local next_id = 0
                function setup(thread)
                  thread:set("tid", next_id)
                  next_id = next_id + 1
                  table.insert(created, thread)
                end
                function init(args)
                  threads = tonumber(args[1]); total = tonumber(args[2]); phase = tonumber(args[3])
                  share = math.floor(total / threads) + ((tid < total %% threads) and 1 or 0)
                  n = 0; answered = 0; accepted = 0; failed = 0; sample = ""; stopped = false
                  if share == 0 then stopped = true; io.write("%s\\n"); io.flush() end
                end
                function request()
                  local seq = tid + threads * n
                  n = n + 1
                  return wrk.format(nil, nil, nil, prefix .. string.format("%%02d-%%07d", phase, seq) .. suffix)
                end
                function response(status, headers, body)
                  answered = answered + 1
                  if status == 202 then
                    accepted = accepted + 1
                  else
                    failed = failed + 1
                    if sample == "" then sample = status .. ":" .. string.gsub(string.sub(body, 1, 200), "%%s", "_") end
                  end
                  if answered >= share and not stopped then
                    stopped = true
                    io.write("%s\\n"); io.flush()
                    wrk.thread:stop()
                  end
                end
                function done(summary, latency, requests)
                  local ok, bad, first = 0, 0, "-"
                  for _, thread in ipairs(created) do
                    ok = ok + thread:get("accepted")
                    bad = bad + thread:get("failed")
                    local s = thread:get("sample")
                    if s ~= "" and first == "-" then first = s end
                  end
                  local e = summary.errors
                  io.write(string.format("%s accepted=%%d failed=%%d p50=%%d p95=%%d p99=%%d max=%%d connect=%%d read=%%d write=%%d timeout=%%d duration=%%d first=%%s\\n",
                    ok, bad, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
                    e.connect, e.read, e.write, e.timeout, summary.duration, first))
                end
                """.formatted(apiKey, prefix, suffix, THREAD_DONE, THREAD_DONE, RESULT_LINE));
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(phase.deadlineNanos - System.nanoTime()));
        List<String> command = List.of(RelayBenchmark.onPath("wrk").toString(), "-t" + threads, "-c" + connections,
                "-d" + seconds + "s", "--timeout", "30s", "--latency", "-s", script.toString(), url, "--",
                Integer.toString(threads), Integer.toString(phase.total), Integer.toString(phase.id));
        AtomicInteger done = new AtomicInteger();
        begin.run();
        ExternalLoad.Result result = ExternalLoad.run(command, directory.resolve("wrk-" + phase.id + ".log"),
                phase.deadlineNanos + TimeUnit.SECONDS.toNanos(30),
                line -> line.startsWith(THREAD_DONE) && done.incrementAndGet() == threads);
        long end = System.nanoTime();
        phase.sendsEndNanos = end;
        if (!Double.isNaN(result.cpuSeconds())) {
            phase.loadCpuNanos.addAndGet(Math.round(result.cpuSeconds() * 1e9));
        }
        String summary = result.output().stream().filter(l -> l.startsWith(RESULT_LINE)).findFirst().orElse(null);
        if (summary == null) {
            phase.markError("wrk exited with " + result.exitCode() + " without its summary: "
                    + String.join(" / ", result.output().subList(Math.max(0, result.output().size() - 5),
                    result.output().size())));
            return;
        }
        Map<String, String> values = new java.util.HashMap<>();
        Matcher matcher = RESULT.matcher(summary);
        while (matcher.find()) {
            values.put(matcher.group(1), matcher.group(2));
        }
        int accepted = Integer.parseInt(values.get("accepted"));
        int failed = Integer.parseInt(values.get("failed"));
        int socketErrors = Integer.parseInt(values.get("connect")) + Integer.parseInt(values.get("read"))
                + Integer.parseInt(values.get("write")) + Integer.parseInt(values.get("timeout"));
        phase.accepted.set(accepted);
        phase.sent.set(accepted + failed);
        // wrk's duration runs to its SIGINT, shortly after the last answer; the benchmark's own end is as close.
        phase.lastAccepted.set(phase.startNanos + Long.parseLong(values.get("duration")) * 1000);
        phase.perMessageAcceptLatency = false;
        phase.reportedAcceptMicros = new long[] {Long.parseLong(values.get("p50")), Long.parseLong(values.get("p95")),
                Long.parseLong(values.get("p99"))};
        for (int i = 0; i < failed; i++) {
            phase.markError("REST answered " + values.get("first").replace('_', ' '));
        }
        if (socketErrors > 0) {
            for (int i = 0; i < socketErrors; i++) {
                phase.markError("wrk socket errors: connect " + values.get("connect") + ", read " + values.get("read")
                        + ", write " + values.get("write") + ", timeout " + values.get("timeout"));
            }
        }
        if (accepted + failed < phase.total) {
            phase.incomplete = (phase.total - accepted - failed) + " of " + phase.total + " requests not answered"
                    + (result.timedOut() ? " (wrk killed at the deadline)" : "");
        }
    }
}
