package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

import com.mailrelay.accept.MessageAcceptor;
import com.mailrelay.accept.Submission;
import com.mailrelay.accept.InputLimits;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.subethamail.smtp.auth.EasyAuthenticationHandlerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The SMTP submission server (SubEthaSMTP) on relay.smtp.port: STARTTLS, AUTH PLAIN/LOGIN,
 * SIZE, and one {@link SmtpSubmission} per mail transaction. Starts after the Camel routes it
 * feeds and stops before them.
 */
@Component
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpIngress implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SmtpIngress.class);

    private final RelayProperties properties;
    private final Workspaces workspaces;
    private final ProducerTemplate producer;
    private final TrustedNetworks trustedNetworks;
    private SMTPServer server;

    public SmtpIngress(RelayProperties properties, Workspaces workspaces, ProducerTemplate producer) {
        this.properties = properties;
        this.workspaces = workspaces;
        this.producer = producer;
        this.trustedNetworks = new TrustedNetworks(properties.smtp().trustedNetworks());
    }

    @Override
    public synchronized void start() {
        RelayProperties.Smtp smtp = properties.smtp();
        String hostName = hostName(smtp);
        SMTPServer.Builder builder = SMTPServer.port(smtp.port())
                .bindAddress(address(smtp.bindAddress()))
                .hostName(hostName)
                .softwareName("Mail Relay")
                .maxMessageSize((int) Math.min(Integer.MAX_VALUE, maxMessageSize()))
                .maxConnections(smtp.maxConnections())
                .connectionTimeout((int) smtp.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                // Our own checks answer with the precise enhanced status codes.
                .fromAddressValidator(address -> true)
                .messageHandlerFactory(context -> new SmtpSubmission(context, this))
                .authenticationHandlerFactory(new EasyAuthenticationHandlerFactory(
                        new SmtpAuthenticator(workspaces, smtp.allowInsecureAuth(), smtp.authFailuresBeforeDelay())))
                .enableTLS();
        // Our sockets complete SubEthaSMTP's replies (enhanced codes, EHLO keywords), in clear and in TLS.
        EsmtpSockets sockets = new EsmtpSockets(SmtpTlsContext.create(smtp.tls(), hostName),
                smtp.allowInsecureAuth(), hostName);
        builder.serverSocketFactory(sockets).startTlsSocketFactory(sockets);
        server = builder.build();
        server.start();
        log.info("SMTP submission server listening on {}:{} (max {} connections, {} bytes per message)",
                smtp.bindAddress(), server.getPortAllocated(), smtp.maxConnections(), maxMessageSize());
        if (smtp.allowInsecureAuth()) {
            log.warn("SMTP AUTH is also offered without TLS (relay.smtp.allow-insecure-auth): passwords may cross "
                    + "the network in clear. Keep it for loopback or development only.");
        }
    }

    @Override
    public synchronized void stop() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return server != null && server.isRunning();
    }

    /** Started late, stopped early: no message is taken while its route cannot be reached. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }

    /** The port actually listened on (relay.smtp.port may be 0 for "any free port"). */
    public int port() {
        return server.getPortAllocated();
    }

    MessageAcceptor.Accepted accept(Submission submission) {
        return producer.requestBody("direct:accept", submission, MessageAcceptor.Accepted.class);
    }

    Workspaces workspaces() {
        return workspaces;
    }

    TrustedNetworks trustedNetworks() {
        return trustedNetworks;
    }

    InputLimits inputLimits() {
        return new InputLimits(properties.limits());
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
