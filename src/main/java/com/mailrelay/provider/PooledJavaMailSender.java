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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * camel-mail's sender, keeping upstream SMTP connections open between messages. The default one
 * connects, greets (and negotiates TLS and AUTH) and quits for every message, which costs more
 * than the message itself. Here a connection that has just sent a message successfully goes back
 * to the endpoint's pool and the next send on that endpoint reuses it, as MTAs reuse theirs.
 *
 * <p>Only connections whose last transaction succeeded are reused; any failure closes the
 * connection. Connections idle longer than {@link #MAX_IDLE} are closed by a reaper, well before
 * servers drop idle clients (RFC 5321 suggests a 5-minute server timeout), so a reused
 * connection is almost never a dead one; if it is, the send fails as transient and is retried.
 */
class PooledJavaMailSender extends DefaultJavaMailSender {

    static final Duration MAX_IDLE = Duration.ofSeconds(5);
    /** More idle connections than this per endpoint are closed, not kept. */
    private static final int MAX_POOLED = 32;

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
        long period = MAX_IDLE.toMillis() / 2;
        reaper.scheduleWithFixedDelay(PooledJavaMailSender::closeAllIdle, period, period, TimeUnit.MILLISECONDS);
    }

    private final Deque<Pooled> idle = new ConcurrentLinkedDeque<>();

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
        SENDERS.add(this);
    }

    private record Pooled(Transport transport, long idleSince) {
    }

    @Override
    protected Transport getTransport(Session session) throws NoSuchProviderException {
        Pooled pooled = idle.pollFirst();
        if (pooled != null) {
            return new Lease(session, pooled.transport(), true);
        }
        return new Lease(session, super.getTransport(session), false);
    }

    private static void closeAllIdle() {
        List<PooledJavaMailSender> senders;
        synchronized (SENDERS) {
            senders = new ArrayList<>(SENDERS);
        }
        senders.forEach(PooledJavaMailSender::closeIdle);
    }

    private void closeIdle() {
        long oldest = System.nanoTime() - MAX_IDLE.toNanos();
        for (Iterator<Pooled> it = idle.descendingIterator(); it.hasNext(); ) {
            Pooled pooled = it.next();
            if (pooled.idleSince() - oldest < 0 && idle.removeLastOccurrence(pooled)) {
                closeQuietly(pooled.transport());
            }
        }
    }

    private void giveBack(Transport transport) {
        if (idle.size() >= MAX_POOLED) {
            closeQuietly(transport);
            return;
        }
        // Most recently used first: under light load the same few connections stay warm and the
        // rest age out.
        idle.offerFirst(new Pooled(transport, System.nanoTime()));
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
        /** Whether the connection came from the pool (open and greeted); not probed with a NOOP, to save the round trip. */
        private boolean reused;
        private boolean open;
        private boolean healthy;
        private String host;
        private int port;
        private String user;
        private String password;

        Lease(Session session, Transport connection, boolean reused) {
            super(session, null);
            this.session = session;
            this.connection = connection;
            this.reused = reused;
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
                connection = PooledJavaMailSender.super.getTransport(session);
                connection.connect(host, port, user, password);
                connection.sendMessage(message, addresses);
            }
            healthy = true;
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
                giveBack(connection);
            } else {
                closeQuietly(connection);
            }
        }
    }
}
