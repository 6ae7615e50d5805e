package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * The open SMTP sessions: admits a connection (at most {@code maxPerAddress} at once from one
 * client address, none while draining), keeps what the relay needs to know about each session
 * (EHLO or HELO, a command under way, a message being committed), and drains them at shutdown.
 *
 * <p>Draining: new connections and new transactions get {@code 421 4.3.2}; a session between
 * transactions is told {@code 421 4.3.2} and closed; a session inside a transaction (MAIL to
 * the end of DATA) may finish it and get its reply first. SubEthaSMTP's own stop closes every
 * session at once, in the middle of DATA too, which is why the relay drains before calling it.
 */
final class SmtpSessions implements SessionHandler {

    static final String DRAINING = "4.3.2 Service shutting down: try again later, or at another instance";

    private static final Logger log = LoggerFactory.getLogger(SmtpSessions.class);

    /** What the relay tracks of one session; guarded by its own monitor. */
    static final class State {
        final InetAddress key;
        boolean extended;                   // EHLO (not HELO): ESMTP in the Received header
        private boolean busy;               // a command is being executed
        private boolean committing;         // DATA read to its end: the message is being stored
        private boolean closing;            // told 421 by the drain

        State(InetAddress key) {
            this.key = key;
        }
    }

    private final int maxPerAddress;
    private final MeterRegistry meters;
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final Map<Session, State> sessions = new ConcurrentHashMap<>();
    private final Object changes = new Object();
    private volatile boolean draining;

    SmtpSessions(int maxPerAddress, MeterRegistry meters) {
        this.maxPerAddress = maxPerAddress;
        this.meters = meters;
    }

    @Override
    public SessionAcceptance accept(Session session) {
        InetAddress client = session.getRealRemoteAddress().getAddress();
        if (draining) {
            refused(client, "draining");
            return SessionAcceptance.failure(421, DRAINING);
        }
        InetAddress key = ClientAddresses.key(client);
        boolean[] admitted = {false};
        perAddress.compute(key, (k, count) -> {
            int open = count == null ? 0 : count;
            admitted[0] = open < maxPerAddress;
            return admitted[0] ? open + 1 : count;
        });
        if (!admitted[0]) {
            refused(client, "per-address");
            return SessionAcceptance.failure(421, "4.7.0 Too many connections from " + ClientAddresses.text(key)
                    + " (relay.smtp.max-connections-per-address is " + maxPerAddress
                    + "): close some or try again later");
        }
        sessions.put(session, new State(key));
        return SessionAcceptance.success();
    }

    @Override
    public void onSessionEnd(Session session) {
        State state = sessions.remove(session);
        if (state != null) {
            perAddress.computeIfPresent(state.key, (k, count) -> count == 1 ? null : count - 1);
        }
        changed();
    }

    private void refused(InetAddress client, String reason) {
        log.info("SMTP connection from {} refused: {}", client.getHostAddress(),
                reason.equals("draining") ? "shutting down" : "more than " + maxPerAddress + " from its address");
        meters.counter("relay.smtp.connections.refused", "reason", reason).increment();
    }

    State state(Session session) {
        return sessions.get(session);
    }

    boolean draining() {
        return draining;
    }

    /**
     * Marks a command as running; false when the drain has already closed the session (the
     * command is then not executed).
     */
    boolean beginCommand(Session session) {
        State state = sessions.get(session);
        if (state == null) {
            return true;
        }
        synchronized (state) {
            if (state.closing) {
                return false;
            }
            state.busy = true;
            return true;
        }
    }

    void endCommand(Session session) {
        State state = sessions.get(session);
        if (state != null) {
            synchronized (state) {
                state.busy = false;
                state.committing = false;
            }
        }
        if (draining) {
            changed();
        }
    }

    /** The client has sent the whole message: from here on a reply must reach it if at all possible. */
    void committing(Session session) {
        State state = sessions.get(session);
        if (state != null) {
            synchronized (state) {
                state.committing = true;
            }
        }
    }

    /**
     * Drains: refuses new connections and transactions, closes sessions as soon as they are
     * between transactions, and returns when none is left or {@code timeout} has passed. Then
     * closes what is left, except sessions whose message is being committed: those are given up
     * to {@code timeout} more to send their reply. Returns the number of sessions still open.
     */
    int drain(Duration timeout) {
        draining = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        log.info("SMTP draining: {} session(s) open; new transactions get 421; waiting up to {} for them",
                sessions.size(), EsmtpSockets.text(timeout));
        while (!sessions.isEmpty() && System.nanoTime() - deadline < 0) {
            closeIdle(false);
            if (!await(deadline)) {
                break;
            }
        }
        if (!sessions.isEmpty()) {
            int cut = closeIdle(true);
            log.warn("SMTP drain timeout ({}) reached: closed {} session(s) still in a transaction; nothing of "
                    + "theirs was committed, their clients retry", EsmtpSockets.text(timeout), cut);
            long grace = System.nanoTime() + timeout.toNanos();
            while (!sessions.isEmpty() && System.nanoTime() - grace < 0 && await(grace)) {
                // waiting for the commits under way to answer their clients
            }
        }
        return sessions.size();
    }

    /**
     * Tells {@code 421 4.3.2} to every session that is between commands and outside a
     * transaction (or, with {@code all}, to every session not committing a message) and closes
     * it. A session that is executing a command is left to finish; the next round closes it.
     */
    private int closeIdle(boolean all) {
        int closed = 0;
        List<Map.Entry<Session, State>> open = new ArrayList<>(sessions.entrySet());
        for (Map.Entry<Session, State> entry : open) {
            Session session = entry.getKey();
            State state = entry.getValue();
            synchronized (state) {
                boolean idle = !state.busy && !session.isMailTransactionInProgress();
                if (state.closing || state.committing || !(idle || all)) {
                    continue;
                }
                state.closing = true;
            }
            log.info("SMTP session from {} closed: shutting down{}", session.getRealRemoteAddress().getAddress()
                    .getHostAddress(), all ? " (drain timeout, inside a transaction)" : "");
            try {
                session.sendResponse("421 " + DRAINING);
                EsmtpSockets.hangUp(session.getSocket());
            } catch (IOException e) {
                // the client is gone already
            }
            closed++;
        }
        return closed;
    }

    private void changed() {
        synchronized (changes) {
            changes.notifyAll();
        }
    }

    /**
     * Waits for a session to end or a command to finish, at most 100 ms and never past the
     * deadline; false when interrupted (the drain then ends early).
     */
    private boolean await(long deadline) {
        long millis = Math.min(100, Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        synchronized (changes) {
            try {
                changes.wait(millis);
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
