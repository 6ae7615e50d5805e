package com.mailrelay.provider;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.NoSuchProviderException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import org.apache.camel.component.mail.DefaultJavaMailSender;
import org.apache.camel.component.mail.JavaMailSender;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * camel-mail's sender, keeping upstream SMTP connections open between messages. The default one
 * connects, greets (and negotiates TLS and AUTH) and quits for every message, which costs more
 * than the message itself. Here a connection that has just sent a message successfully goes back
 * to the endpoint's pool and the next send on that endpoint reuses it, as MTAs reuse theirs.
 *
 * <p>Only connections whose last transaction succeeded are reused; any failure closes the
 * connection. The pool's limits are the smtp template's parameters, handed over as Jakarta Mail
 * properties of the endpoint URI (camel-mail puts every {@code mail.*} URI option there):
 * <ul>
 * <li>{@value #POOL_SIZE} ({@code poolSize}): idle connections kept per endpoint; more are closed;</li>
 * <li>{@value #MAX_MESSAGES} ({@code maxMessagesPerConnection}): a connection that has carried
 *     this many messages is closed instead of kept (0: no limit), for servers that limit a session;</li>
 * <li>{@value #IDLE_TIMEOUT} ({@code idleTimeoutMillis}): a connection idle longer is closed,
 *     well before servers drop idle clients (RFC 5321 suggests a 5-minute server timeout), so a
 *     reused connection is almost never a dead one; if it is, the send fails as transient and is retried;</li>
 * <li>{@value #NOOP_AFTER} ({@code noopCheckAfterIdleMillis}): a connection idle longer is asked
 *     NOOP before it is reused, and replaced by a new one if the answer is not 250 (0: never; the
 *     round trip is saved, and a dead connection is caught by the retry below instead).</li>
 * </ul>
 */
class PooledJavaMailSender extends DefaultJavaMailSender {

    static final String POOL_SIZE = "mail.relay.pool.size";
    static final String MAX_MESSAGES = "mail.relay.pool.max-messages-per-connection";
    static final String IDLE_TIMEOUT = "mail.relay.pool.idle-timeout-millis";
    static final String NOOP_AFTER = "mail.relay.pool.noop-check-after-idle-millis";
    /** The defaults, also those of smtp.kamelet.yaml (the values before they were parameters). */
    static final int DEFAULT_POOL_SIZE = 32;
    static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 5000;
    /** How often idle connections past their timeout are closed; a reuse checks the timeout itself too. */
    private static final Duration REAP_PERIOD = Duration.ofMillis(500);

    private static final Logger log = LoggerFactory.getLogger(PooledJavaMailSender.class);
    /** Every sender's pool, weakly: the pool of a removed route goes away with it. */
    private static final Set<PooledJavaMailSender> SENDERS = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));

    /**
     * Jakarta Mail's writetimeout arms a timer for every write; without an executor of ours it
     * starts a scheduler thread per connection. One shared daemon scheduler serves them all.
     */
    private static final ScheduledExecutorService WRITE_TIMEOUTS = Executors.newScheduledThreadPool(1, task -> {
        Thread thread = new Thread(task, "smtp-write-timeout");
        thread.setDaemon(true);
        return thread;
    });

    static {
        ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "smtp-pool-reaper");
            thread.setDaemon(true);
            return thread;
        });
        long period = REAP_PERIOD.toMillis();
        reaper.scheduleWithFixedDelay(PooledJavaMailSender::closeAllIdle, period, period, TimeUnit.MILLISECONDS);
    }

    private final Deque<Pooled> idle = new ConcurrentLinkedDeque<>();
    private final int poolSize;
    private final int maxMessages;
    private final long idleTimeoutNanos;
    private final long noopAfterNanos;

    /** A sender with the settings camel-mail gave {@code configured}. */
    PooledJavaMailSender(JavaMailSender configured) {
        setHost(configured.getHost());
        setPort(configured.getPort());
        setProtocol(configured.getProtocol());
        setUsername(configured.getUsername());
        setPassword(configured.getPassword());
        setAuthenticator(configured.getAuthenticator());
        setJavaMailProperties(configured.getJavaMailProperties());
        // The endpoint's Session reads these very Properties (it keeps the object camel-mail gave it).
        for (String protocol : List.of("smtp", "smtps")) {
            if (configured.getJavaMailProperties().getProperty("mail." + protocol + ".writetimeout") != null) {
                configured.getJavaMailProperties().put("mail." + protocol + ".executor.writetimeout", WRITE_TIMEOUTS);
            }
        }
        setSession(configured.getSession());
        java.util.Properties properties = configured.getJavaMailProperties();
        this.poolSize = (int) setting(properties, POOL_SIZE, DEFAULT_POOL_SIZE, 0);
        this.maxMessages = (int) setting(properties, MAX_MESSAGES, 0, 0);
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(
                setting(properties, IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT_MILLIS, 1));
        this.noopAfterNanos = TimeUnit.MILLISECONDS.toNanos(setting(properties, NOOP_AFTER, 0, 0));
        SENDERS.add(this);
    }

    /** A pool setting of the endpoint: a whole number of at least {@code min}, or the endpoint cannot be made. */
    private static long setting(java.util.Properties properties, String name, long fallback, long min) {
        String text = properties.getProperty(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not '" + text + "'", e);
        }
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", not " + value);
        }
        return value;
    }

    /** @param messages how many messages the connection has carried */
    private record Pooled(Transport transport, long idleSince, int messages) {
    }

    @Override
    protected Transport getTransport(Session session) throws NoSuchProviderException {
        for (Pooled pooled = idle.pollFirst(); pooled != null; pooled = idle.pollFirst()) {
            long idleFor = System.nanoTime() - pooled.idleSince();
            if (idleFor > idleTimeoutNanos) {
                // Past its idle timeout but not reaped yet: as good as closed.
                closeQuietly(pooled.transport());
                continue;
            }
            // Angus Mail's isConnected() asks NOOP and reads the reply: false unless the server still serves it.
            if (noopAfterNanos > 0 && idleFor > noopAfterNanos && !pooled.transport().isConnected()) {
                log.debug("a kept-open connection that idled {} ms failed its NOOP check; opening a new one",
                        TimeUnit.NANOSECONDS.toMillis(idleFor));
                closeQuietly(pooled.transport());
                continue;
            }
            return new Lease(session, pooled.transport(), true, pooled.messages());
        }
        return new Lease(session, super.getTransport(session), false, 0);
    }

    private static void closeAllIdle() {
        List<PooledJavaMailSender> senders;
        synchronized (SENDERS) {
            senders = new ArrayList<>(SENDERS);
        }
        senders.forEach(PooledJavaMailSender::closeIdle);
    }

    private void closeIdle() {
        long oldest = System.nanoTime() - idleTimeoutNanos;
        for (Iterator<Pooled> it = idle.descendingIterator(); it.hasNext(); ) {
            Pooled pooled = it.next();
            if (pooled.idleSince() - oldest < 0 && idle.removeLastOccurrence(pooled)) {
                closeQuietly(pooled.transport());
            }
        }
    }

    private void giveBack(Transport transport, int messages) {
        if (idle.size() >= poolSize || maxMessages > 0 && messages >= maxMessages) {
            closeQuietly(transport);
            return;
        }
        // Most recently used first: under light load the same few connections stay warm and the
        // rest age out.
        idle.offerFirst(new Pooled(transport, System.nanoTime(), messages));
    }

    private static void closeQuietly(Transport transport) {
        try {
            transport.close();
        } catch (MessagingException | RuntimeException e) {
            log.debug("closing an upstream connection failed: {}", e.toString());
        }
    }

    /**
     * What DefaultJavaMailSender sees for one message: connect() opens the connection only if it
     * is not open yet, close() hands a healthy connection back to the pool. A kept-open connection
     * that fails before the message left (the upstream closed it while idle, or refuses more
     * messages on it: 421 to MAIL FROM) is replaced by a new one and the message sent again once,
     * instead of failing the message.
     */
    private final class Lease extends Transport {

        private final Session session;
        private Transport connection;
        /** Whether the connection came from the pool (open and greeted; NOOP-checked only if it idled past noopCheckAfterIdleMillis). */
        private boolean reused;
        /** Messages the connection carried before this one. */
        private int messages;
        private boolean open;
        private boolean healthy;
        private String host;
        private int port;
        private String user;
        private String password;

        Lease(Session session, Transport connection, boolean reused, int messages) {
            super(session, null);
            this.session = session;
            this.connection = connection;
            this.reused = reused;
            this.messages = messages;
            this.open = reused;
        }

        @Override
        public synchronized void connect(String host, int port, String user, String password)
                throws MessagingException {
            this.host = host;
            this.port = port;
            this.user = user;
            this.password = password;
            if (!open) {
                connection.connect(host, port, user, password);
                open = true;
            }
        }

        @Override
        public void sendMessage(Message message, Address[] addresses) throws MessagingException {
            healthy = false;
            try {
                connection.sendMessage(message, addresses);
            } catch (MessagingException failure) {
                if (closedByWriteTimeout(failure)) {
                    throw new MessagingException("write timed out (timeout): the upstream stopped reading the message",
                            failure);
                }
                if (!reused || !beforeTheMessageLeft(failure)) {
                    throw failure;
                }
                log.debug("a kept-open connection to {}:{} failed ({}); sending on a new one", host, port,
                        failure.getMessage());
                closeQuietly(connection);
                reused = false;
                messages = 0;
                connection = PooledJavaMailSender.super.getTransport(session);
                connection.connect(host, port, user, password);
                connection.sendMessage(message, addresses);
            }
            healthy = true;
            // The reply to the end of DATA, for the delivery history ("250 2.0.0 Ok: queued as ...").
            if (message instanceof SmtpEnvelope.Envelope envelope && connection instanceof SMTPTransport smtp) {
                envelope.replied(smtp.getLastServerResponse());
            }
        }

        /**
         * Jakarta Mail's write timeout closes the socket under a blocked write, which then fails
         * with "Socket closed" — nothing else closes our own socket in the middle of a send.
         */
        private boolean closedByWriteTimeout(MessagingException failure) {
            if (session.getProperty("mail.smtp.writetimeout") == null
                    && session.getProperty("mail.smtps.writetimeout") == null) {
                return false;
            }
            for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
                if (cause instanceof java.net.SocketException && cause.getMessage() != null
                        && cause.getMessage().contains("Socket closed")) {
                    return true;
                }
                if (cause instanceof java.net.SocketTimeoutException
                        && String.valueOf(cause.getMessage()).contains("Write timed out")) {
                    return true;
                }
            }
            return false;
        }

        /**
         * MAIL FROM refused or unanswered (the first command of a transaction: Angus Mail reports
         * the command), or a command that could not even be written: no part of the message was sent.
         */
        private static boolean beforeTheMessageLeft(MessagingException failure) {
            return failure instanceof SMTPSendFailedException refused && refused.getCommand() != null
                            && refused.getCommand().startsWith("MAIL FROM")
                    || failure.getCause() instanceof IOException
                            && "Can't send command to SMTP host".equals(failure.getMessage());
        }

        @Override
        public synchronized void close() {
            if (healthy) {
                giveBack(connection, messages + 1);
            } else {
                closeQuietly(connection);
            }
        }
    }
}
