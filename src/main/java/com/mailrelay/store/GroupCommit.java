package com.mailrelay.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RefusedWork;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Group commit: concurrent short transactions (accepting a message, recording a delivery outcome)
 * share one. Each caller still returns only after the commit that holds its work, but the work
 * that arrives while one commit is in flight goes into the next transaction together: one commit
 * (one WAL flush) for many messages instead of one each, which is what bounds a durable relay
 * under many concurrent sessions. Nothing waits for a batch to fill: lone work commits at once.
 *
 * <p>If a batch fails, its units are retried one transaction each, so one bad unit cannot fail
 * the others and each caller gets the error that is its own. When the committers are not running
 * (start-up, shutdown), callers commit on their own thread.
 *
 * <p>On an H2 file database (the embedded default) a commit alone is not durable: H2's MVStore
 * keeps committed changes in memory and writes them in the background about once a second
 * ({@code WRITE_DELAY=0} does not help: it stops that writer, so commits reach the disk even
 * later). So with {@code relay.group-commit.h2-sync} (the default) every commit here is followed
 * by {@code CHECKPOINT SYNC} — write the store and fsync it — before its callers are answered:
 * one flush per group commit, not per message.
 */
@Component
public class GroupCommit implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);
    /** A caller waits this long at most; a commit that takes longer means the database is in trouble. */
    private static final Duration MAX_WAIT = Duration.ofSeconds(60);

    private record Pending(Supplier<?> work, CompletableFuture<Object> result) {
    }

    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final TransactionTemplate transaction;
    private final RelayProperties.GroupCommit settings;
    private final List<Thread> committers = new ArrayList<>();
    /** relay_commit_batch: units of work per group commit (count = commits, sum = units). */
    private final DistributionSummary batchSizes;
    private volatile boolean running;
    private final JdbcTemplate jdbc;
    /** Whether commits must be followed by CHECKPOINT SYNC; null until the database has been asked. */
    private volatile Boolean syncAfterCommit;

    public GroupCommit(TransactionTemplate transaction, JdbcTemplate jdbc, RelayProperties properties,
                       MeterRegistry meters) {
        this.transaction = transaction;
        this.jdbc = jdbc;
        this.settings = properties.groupCommit();
        this.batchSizes = DistributionSummary.builder("relay.commit.batch")
                .description("accepts and delivery outcomes committed by one transaction").register(meters);
    }

    /**
     * Runs {@code work} inside a transaction shared with concurrent callers and returns its result
     * once that transaction has committed. The work must be safe to run a second time in a
     * transaction of its own (after its batch failed and was rolled back).
     */
    @SuppressWarnings("unchecked")
    public <T> T commit(Supplier<T> work) {
        if (!running) {
            return alone(work);
        }
        Pending entry = new Pending(withLogContext(work), new CompletableFuture<>());
        pending.add(entry);
        if (!running && pending.remove(entry)) {
            // The committers stopped between the check above and the add: commit here instead.
            return alone(work);
        }
        try {
            try {
                return (T) entry.result().get(MAX_WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                if (pending.remove(entry)) {
                    throw new IllegalStateException("no commit within " + MAX_WAIT.toSeconds() + " s", e);
                }
                // A committer has the work: it may still commit, so the caller must not be told
                // it failed (its client would send the message again). Its outcome comes.
                return (T) entry.result().get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the commit", e);
        }
    }

    /**
     * The work under its caller's logging MDC (the message id and workspace of metrics.MessageLogContext),
     * so that what it logs on a committer thread names the message as the caller's own lines do.
     */
    private static <T> Supplier<T> withLogContext(Supplier<T> work) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        if (context == null || context.isEmpty()) {
            return work;
        }
        return () -> {
            Map<String, String> own = MDC.getCopyOfContextMap();
            MDC.setContextMap(context);
            try {
                return work.get();
            } finally {
                if (own == null) {
                    MDC.clear();
                } else {
                    MDC.setContextMap(own);
                }
            }
        };
    }

    /** Runs {@code work} in a transaction of its own, made durable like a group commit, and returns its result. */
    public <T> T alone(Supplier<T> work) {
        T result = transaction.execute(tx -> work.get());
        sync();
        return result;
    }

    /**
     * Runs every unit in ONE transaction of its own, made durable like a group commit, and
     * returns their results in order: a batch of messages sent in one request is stored as it
     * was sent, all or nothing, with one commit (and one flush) however many units it holds. It
     * does not queue behind, or join, the commits of other callers: it is already a group, and
     * may be larger than relay.group-commit.max-batch. A unit that throws fails them all (rolled
     * back); a unit that must refuse alone returns its refusal instead of throwing it. Counted in
     * relay_commit_batch like a group commit: one commit of {@code units.size()} units.
     */
    public <T> List<T> all(List<? extends Supplier<? extends T>> units) {
        if (units.isEmpty()) {
            return List.of();
        }
        List<T> results = transaction.execute(tx -> {
            List<T> values = new ArrayList<>(units.size());
            for (Supplier<? extends T> unit : units) {
                values.add(unit.get());
            }
            return values;
        });
        sync();
        batchSizes.record(units.size());
        return results;
    }

    /**
     * Makes what has been committed so far durable on an H2 file database (CHECKPOINT SYNC: the
     * store is written and fsynced); nothing on other databases, whose commit already is.
     */
    public void sync() {
        if (syncAfterCommit == null) {
            syncAfterCommit = decideSync();
        }
        if (syncAfterCommit) {
            jdbc.execute("checkpoint sync");
        }
    }

    private boolean decideSync() {
        String url = jdbc.execute((ConnectionCallback<String>) connection -> connection.getMetaData().getURL());
        boolean h2File = url != null && url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:mem:");
        if (!h2File) {
            return false;
        }
        if (settings.h2Sync()) {
            log.info("H2 file database: every commit is written and fsynced (CHECKPOINT SYNC) before it is "
                    + "acknowledged; a 202 / 250 survives a crash of the process or the machine");
            return true;
        }
        log.warn("H2 file database with relay.group-commit.h2-sync=false: H2 writes commits to disk in the "
                + "background (about once a second), so a crash or kill -9 can lose messages already answered "
                + "202 / 250");
        return false;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(settings.maxBatch());
        while (running || !pending.isEmpty()) {
            try {
                Pending first = pending.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                pending.drainTo(batch, settings.maxBatch() - 1);
                commitBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable e) {
                // An Error (out of memory...) must not end this committer, nor leave callers waiting.
                log.error("a group commit of {} units failed", batch.size(), e);
                batch.forEach(unit -> unit.result().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void commitBatch(List<Pending> batch) {
        List<Object> results;
        try {
            results = transaction.execute(tx -> {
                List<Object> values = new ArrayList<>(batch.size());
                for (Pending unit : batch) {
                    try {
                        values.add(unit.work().get());
                    } catch (RefusedWork refused) {
                        values.add(refused);    // wrote nothing: the others go on
                    }
                }
                return values;
            });
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                batch.get(0).result().completeExceptionally(e);
                return;
            }
            log.warn("a group commit of {} units failed ({}); committing them one by one", batch.size(),
                    e.toString());
            for (Pending one : batch) {
                try {
                    one.result().complete(alone(one.work()));
                } catch (RuntimeException failure) {
                    one.result().completeExceptionally(failure);
                }
            }
            return;
        }
        try {
            sync();
        } catch (RuntimeException e) {
            // Committed, but not known to be on disk: the callers must not promise it.
            log.error("a group commit of {} units could not be synced to disk", batch.size(), e);
            batch.forEach(unit -> unit.result().completeExceptionally(e));
            return;
        }
        batchSizes.record(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            if (results.get(i) instanceof RefusedWork refused) {
                batch.get(i).result().completeExceptionally(refused);
            } else {
                batch.get(i).result().complete(results.get(i));
            }
        }
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        try {
            syncAfterCommit = decideSync();   // says at start whether a 202 / 250 is durable on H2
        } catch (RuntimeException e) {
            log.warn("could not tell the database kind yet ({}); deciding at the first commit", e.toString());
        }
        for (int i = 0; i < settings.threads(); i++) {
            Thread committer = new Thread(this::run, "group-commit-" + i);
            committer.setDaemon(true);
            committer.start();
            committers.add(committer);
        }
    }

    /** Stops taking new batches once the queue is empty; callers arriving later commit on their own. */
    @Override
    public synchronized void stop() {
        running = false;
        for (Thread committer : committers) {
            try {
                committer.join(MAX_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        committers.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Started before and stopped after the ingresses (SMTP runs at MAX_VALUE - 100). */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 200;
    }
}
