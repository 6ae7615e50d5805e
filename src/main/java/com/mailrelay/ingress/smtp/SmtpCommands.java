package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandException;
import org.subethamail.smtp.internal.server.CommandHandler;
import org.subethamail.smtp.internal.server.HelpMessage;
import org.subethamail.smtp.server.Session;

/**
 * Guards around SubEthaSMTP's commands, put into its command table after the server is built
 * (the library offers no other hook at the command level; the {@code Command} interface is in its
 * internal package, pinned by the version in the pom):
 * <ul>
 * <li>every command is marked as running in {@link SmtpSessions}, so that the drain closes a
 * session only between commands;</li>
 * <li>AUTH outside TLS, unless insecure AUTH is allowed, is answered {@code 538 5.7.11} at the
 * command, before the client sends a password (AUTH LOGIN gets no 334 prompt);</li>
 * <li>AUTH from an address with too many recent failures is answered {@code 454 4.7.0} at once,
 * without reading or checking credentials;</li>
 * <li>MAIL while draining is answered {@code 421 4.3.2} and the connection closed;</li>
 * <li>EHLO and HELO are noted, for the protocol named in the Received header.</li>
 * </ul>
 */
final class SmtpCommands {

    private static final Logger log = LoggerFactory.getLogger(SmtpCommands.class);

    private final SmtpSessions sessions;
    private final SmtpAuthenticator authenticator;
    private final boolean allowInsecureAuth;
    private final MeterRegistry meters;

    SmtpCommands(SmtpSessions sessions, SmtpAuthenticator authenticator, boolean allowInsecureAuth,
                 MeterRegistry meters) {
        this.sessions = sessions;
        this.authenticator = authenticator;
        this.allowInsecureAuth = allowInsecureAuth;
        this.meters = meters;
    }

    void install(CommandHandler handler) {
        for (String verb : List.copyOf(handler.getVerbs())) {
            handler.addCommand(new Guarded(handler.getCommand(verb)));
        }
    }

    private final class Guarded implements Command {
        private final Command command;

        Guarded(Command command) {
            this.command = command;
        }

        @Override
        public void execute(String line, Session session) throws IOException, DropConnectionException {
            if (!sessions.beginCommand(session)) {
                return;                                         // the drain has just closed this session
            }
            try {
                switch (command.getName()) {
                    case "AUTH" -> auth(line, session);
                    case "MAIL" -> {
                        if (sessions.draining()) {
                            log.info("SMTP MAIL from {} refused: shutting down", client(session).getHostAddress());
                            throw new DropConnectionException(421, SmtpSessions.DRAINING);
                        }
                        command.execute(line, session);
                    }
                    case "EHLO", "HELO" -> {
                        command.execute(line, session);
                        SmtpSessions.State state = sessions.state(session);
                        if (state != null) {
                            state.extended = command.getName().equals("EHLO");
                        }
                    }
                    default -> command.execute(line, session);
                }
            } finally {
                sessions.endCommand(session);
            }
        }

        private void auth(String line, Session session) throws IOException, DropConnectionException {
            InetAddress client = client(session);
            if (!allowInsecureAuth && !session.isTLSStarted()) {
                log.info("SMTP AUTH from {} refused at the command: not inside TLS", client.getHostAddress());
                meters.counter("relay.smtp.auth.refused", "reason", "no-tls").increment();
                session.sendResponse("538 5.7.11 Encryption required for requested authentication mechanism: "
                        + "issue STARTTLS first, then AUTH");
                return;
            }
            InetAddress key = ClientAddresses.key(client);
            Duration wait = authenticator.begin(key);
            if (!wait.isZero()) {
                long seconds = Math.max(1, wait.toSeconds());
                log.info("SMTP AUTH from {} refused unchecked: too many failed logins from {}, {} s left",
                        client.getHostAddress(), ClientAddresses.text(key), seconds);
                meters.counter("relay.smtp.auth.refused", "reason", "throttled").increment();
                session.sendResponse("454 4.7.0 Too many failed logins from " + ClientAddresses.text(key)
                        + ": AUTH is not checked for " + seconds + " s; wait, then try again with the right password");
                return;
            }
            try {
                command.execute(line, session);
            } finally {
                authenticator.end(key);
            }
        }

        @Override
        public HelpMessage getHelp() throws CommandException {
            return command.getHelp();
        }

        @Override
        public String getName() {
            return command.getName();
        }
    }

    private static InetAddress client(Session session) {
        return session.getRemoteAddress().getAddress();
    }
}
