package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import com.mailrelay.config.RelayProperties;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
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

    public GroupCommit(TransactionTemplate transaction, RelayProperties properties, MeterRegistry meters) {
        this.transaction = transaction;
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
            return transaction.execute(tx -> work.get());
        }
        Pending entry = new Pending(work, new CompletableFuture<>());
        pending.add(entry);
        if (!running && pending.remove(entry)) {
            // The committers stopped between the check above and the add: commit here instead.
            return transaction.execute(tx -> work.get());
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
                    one.result().complete(transaction.execute(tx -> one.work().get()));
                } catch (RuntimeException failure) {
                    one.result().completeExceptionally(failure);
                }
            }
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
