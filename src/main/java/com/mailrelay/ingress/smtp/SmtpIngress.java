package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Ticker;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.SendTimes;
import com.mailrelay.message.Submission;
import com.mailrelay.strategy.ProviderOverrides;
import com.mailrelay.workspace.PriorityLevels;
import com.mailrelay.workspace.Workspaces;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.subethamail.smtp.auth.EasyAuthenticationHandlerFactory;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * The SMTP submission server (SubEthaSMTP) on relay.smtp.port: STARTTLS, AUTH PLAIN/LOGIN,
 * SIZE, and one {@link SmtpSubmission} per mail transaction, which hands its message to the
 * {@code smtp-submit} route ({@link SmtpRoutes}) through that route's consumer.
 *
 * <p>Started by that route ({@link SmtpIngressConsumer}), which starts after the route files,
 * so that no message is taken before {@code direct:accept} and routes/ can take it. Stopped as
 * a lifecycle of its own, before GroupCommit and the Camel context (phase below), so that the
 * drain's last transactions still find both up; the route's own stop then finds it closed.
 *
 * <p>Abuse limits: {@code max-connections} in all and {@code max-connections-per-address} per
 * client address ({@link SmtpSessions}), a session deadline besides the idle timeout
 * ({@link EsmtpSockets}), and AUTH refused without a BCrypt check while an address has too many
 * recent failures ({@link SmtpCommands}, {@link AuthFailures}).
 *
 * <p>Stopping drains first ({@link SmtpSessions#drain}): new connections and transactions get
 * {@code 421 4.3.2}, transactions under way may finish within {@code drain-timeout} and get their
 * reply, and only then is the server stopped.
 */
@Component
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpIngress implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SmtpIngress.class);

    private final RelayProperties properties;
    private final Workspaces workspaces;
    private final TrustedNetworks trustedNetworks;
    private final MeterRegistry meters;
    private final ProviderOverrides providerOverrides;
    private final SendTimes sendTimes;
    private SMTPServer server;
    private volatile SmtpSessions sessions;
    private volatile Handover handover;

    /** Where a transaction's message goes at the end of DATA: the {@code smtp-submit} route's consumer. */
    interface Handover {
        /** The message's {@link com.mailrelay.message.Accepted}, or the {@link SmtpReply} refusing it. */
        Object submit(Submission submission, String client);
    }

    public SmtpIngress(RelayProperties properties, Workspaces workspaces, MeterRegistry meters,
                       ProviderOverrides providerOverrides, Clock clock) {
        this.properties = properties;
        this.sendTimes = properties.scheduling().sendTimes(clock);
        this.workspaces = workspaces;
        this.meters = meters;
        this.providerOverrides = providerOverrides;
        this.trustedNetworks = new TrustedNetworks(properties.smtp().trustedNetworks());
    }

    /** Opens the server, every message then going to {@code handover}; a no-op when it is open. */
    synchronized void open(Handover handover) {
        if (server != null) {
            return;
        }
        this.handover = handover;
        RelayProperties.Smtp smtp = properties.smtp();
        String hostName = hostName(smtp);
        SmtpSessions sessions = new SmtpSessions(smtp.maxConnectionsPerAddress(), meters);
        SmtpAuthenticator authenticator = new SmtpAuthenticator(workspaces, smtp.allowInsecureAuth(),
                new AuthFailures(smtp.authMaxFailures(), smtp.authFailureWindow(), smtp.authMaxTrackedAddresses(),
                        Ticker.systemTicker()), meters);
        SMTPServer.Builder builder = SMTPServer.port(smtp.port())
                .bindAddress(address(smtp.bindAddress()))
                .hostName(hostName)
                .softwareName("Mail Relay")
                .maxMessageSize((int) Math.min(Integer.MAX_VALUE, maxMessageSize()))
                .maxConnections(smtp.maxConnections())
                .connectionTimeout((int) smtp.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .sessionHandler(sessions)
                // Our own checks answer with the precise enhanced status codes.
                .fromAddressValidator(address -> true)
                // ReceivedHeader writes the header instead, naming the protocol (ESMTPSA, ...).
                .insertReceivedHeaders(false)
                .messageHandlerFactory(context -> new ReceivedHeader(new SmtpSubmission(context, this),
                        (Session) context, sessions))
                .authenticationHandlerFactory(new EasyAuthenticationHandlerFactory(authenticator))
                .enableTLS();
        // Our sockets complete SubEthaSMTP's replies (enhanced codes, EHLO keywords), in clear and in
        // TLS, and keep every read within the session deadline.
        EsmtpSockets sockets = new EsmtpSockets(SmtpTlsContext.create(smtp.tls(), hostName),
                smtp.allowInsecureAuth(), hostName, smtp.idleTimeout(), smtp.sessionDeadline());
        builder.serverSocketFactory(sockets).startTlsSocketFactory(sockets);
        server = builder.build();
        new SmtpCommands(sessions, authenticator, smtp.allowInsecureAuth(), meters).install(server.getCommandHandler());
        this.sessions = sessions;
        server.start();
        log.info("SMTP submission server listening on {}:{} (max {} connections, {} per client address, "
                        + "sessions of at most {}, {} bytes per message)", smtp.bindAddress(), server.getPortAllocated(),
                smtp.maxConnections(), smtp.maxConnectionsPerAddress(), EsmtpSockets.text(smtp.sessionDeadline()), maxMessageSize());
        if (smtp.allowInsecureAuth()) {
            log.warn("SMTP AUTH is also offered without TLS (relay.smtp.allow-insecure-auth): passwords may cross "
                    + "the network in clear. Keep it for loopback or development only.");
        }
    }

    /**
     * Drains, then stops: blocks for at most {@code relay.smtp.drain-timeout} while transactions
     * finish (and as long again for messages whose commit has begun, so that they get their reply).
     * A no-op when the server is closed.
     */
    synchronized void close() {
        if (server != null) {
            int left = sessions.drain(properties.smtp().drainTimeout());
            if (left > 0) {
                log.warn("SMTP stopping with {} session(s) still open", left);
            }
            server.stop();
            server = null;
            handover = null;
            log.info("SMTP submission server stopped");
        }
    }

    /** Nothing to do: the {@code smtp-submit} route opens the server when it starts. */
    @Override
    public void start() {
    }

    @Override
    public boolean isAutoStartup() {
        return false;
    }

    /** The drain at shutdown, while the accept path is still up (see {@link #getPhase}). */
    @Override
    public void stop() {
        close();
    }

    /** Whether the server is draining: refusing new connections and transactions before it stops. */
    public boolean draining() {
        SmtpSessions current = sessions;
        return current != null && current.draining();
    }

    @Override
    public synchronized boolean isRunning() {
        return server != null && server.isRunning();
    }

    /**
     * Stopped early: after REST's drain (MAX_VALUE), before GroupCommit (MAX_VALUE - 200) and the
     * Camel context (MAX_VALUE - 2049), whose routes and commits the drained transactions need.
     */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }

    /** The port actually listened on (relay.smtp.port may be 0 for "any free port"). */
    public int port() {
        return server.getPortAllocated();
    }

    /** Hands a message to the route; {@link SmtpReply#NOT_STORED} if the server has just been closed. */
    Object submit(Submission submission, String client) {
        Handover current = handover;
        return current == null ? SmtpReply.NOT_STORED : current.submit(submission, client);
    }

    Workspaces workspaces() {
        return workspaces;
    }

    ProviderOverrides providerOverrides() {
        return providerOverrides;
    }

    /** The workspaces' priority bounds, for X-Relay-Priority (stateless: read from the workspaces). */
    PriorityLevels priorityLevels() {
        return new PriorityLevels(workspaces);
    }

    TrustedNetworks trustedNetworks() {
        return trustedNetworks;
    }

    InputLimits inputLimits() {
        return properties.limits().inputLimits();
    }

    SendTimes sendTimes() {
        return sendTimes;
    }

    long maxMessageSize() {
        return properties.maxMessageSize().toBytes();
    }

    private static String hostName(RelayProperties.Smtp smtp) {
        if (smtp.hostName() != null && !smtp.hostName().isBlank()) {
            return smtp.hostName();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static InetAddress address(String bindAddress) {
        try {
            return InetAddress.getByName(bindAddress);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("relay.smtp.bind-address: cannot resolve " + bindAddress, e);
        }
    }
}
