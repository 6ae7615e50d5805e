package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.workspace.Workspaces;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.auth.LoginFailedException;
import org.subethamail.smtp.auth.UsernamePasswordValidator;
import org.subethamail.smtp.server.Session;

/**
 * Checks SMTP AUTH (PLAIN and LOGIN) credentials against the workspaces' BCrypt hashes, and keeps
 * the failed logins per client address ({@link AuthFailures}) that decide when AUTH is refused
 * before any check: {@link SmtpCommands} asks {@link #begin} at the AUTH command, so that a
 * throttled attempt costs neither a BCrypt check nor a session slot held by a sleep.
 *
 * <p>A successful login is remembered for a few minutes (as a salted SHA-256 of the password),
 * so that a client opening a pool of connections pays for one BCrypt check, not one per
 * connection.
 */
final class SmtpAuthenticator implements UsernamePasswordValidator {

    private static final Logger log = LoggerFactory.getLogger(SmtpAuthenticator.class);
    private static final Duration LOGIN_MEMORY = Duration.ofMinutes(5);

    private final Workspaces workspaces;
    private final boolean allowInsecureAuth;
    private final AuthFailures failures;
    private final Counter bcryptChecks;
    private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder();
    /** AUTH attempts under way per client address (entries removed at zero). */
    private final Map<InetAddress, Integer> checking = new ConcurrentHashMap<>();
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();
    private final byte[] salt = new byte[16];
    /**
     * What an unknown user's password is checked against, so that a login for a user that does
     * not exist costs what a real one costs. BCrypt (cost 10, the encoder's default) of "no user
     * has this password", written out: encoding it at each start cost a BCrypt round in the
     * interpreter before the SMTP port opened.
     */
    private static final String DUMMY_HASH = "$2a$10$96pCMOabMk/BDaYV7KzAhu2EJPA/oKvmvzNEP1SIjesmBcf2uBJ16";

    /** A login remembered, for the hash it was checked against: a rotated password is checked anew. */
    private record Verified(byte[] digest, String passwordHash, long untilNanos) {
    }

    SmtpAuthenticator(Workspaces workspaces, boolean allowInsecureAuth, AuthFailures failures, MeterRegistry meters) {
        this.workspaces = workspaces;
        this.allowInsecureAuth = allowInsecureAuth;
        this.failures = failures;
        this.bcryptChecks = Counter.builder("relay.smtp.auth.bcrypt.checks")
                .description("SMTP AUTH passwords checked with BCrypt (the costly part of a login)")
                .register(meters);
        new SecureRandom().nextBytes(salt);
    }

    /**
     * Starts an AUTH attempt of the client address: {@link Duration#ZERO} when it may go on (then
     * {@link #end} must follow), else how long the address has to wait.
     */
    Duration begin(InetAddress key) {
        Duration[] wait = {Duration.ZERO};
        checking.compute(key, (k, count) -> {
            int others = count == null ? 0 : count;
            wait[0] = failures.wait(key, others);
            if (!wait[0].isZero()) {
                return count;                    // refused: not under way (null keeps the map free of it)
            }
            return others + 1;
        });
        return wait[0];
    }

    void end(InetAddress key) {
        checking.computeIfPresent(key, (k, count) -> count == 1 ? null : count - 1);
    }

    @Override
    public void login(String username, String password, MessageContext context) throws LoginFailedException {
        InetAddress client = ((InetSocketAddress) context.getRemoteAddress()).getAddress();
        if (!allowInsecureAuth && context instanceof Session session && !session.isTLSStarted()) {
            // SmtpCommands refuses AUTH outside TLS at the command already; this stays as a backstop.
            log.info("SMTP AUTH from {} refused: not inside TLS", client.getHostAddress());
            throw new LoginFailedException("5.7.11 Encryption required: issue STARTTLS first");
        }
        InetAddress key = ClientAddresses.key(client);
        Workspaces.SmtpAccount account = workspaces.smtpAccount(username).orElse(null);
        if (!check(username, password, account)) {
            failures.failed(key, username);
            log.info("SMTP AUTH failed for user '{}' from {}", username, client.getHostAddress());
            throw new LoginFailedException("5.7.8 Authentication credentials invalid");
        }
        failures.succeeded(key, username);
        if (!account.enabled()) {
            // Checked after the password, so that only whoever knows it learns the workspace is disabled (in
            // the log: the AUTH handler answers every failed login with the same 535 5.7.8).
            log.info("SMTP AUTH refused for user '{}' from {}: workspace {} is disabled", username,
                    client.getHostAddress(), account.workspace());
            throw new LoginFailedException("5.7.8 Workspace " + account.workspace() + " is disabled");
        }
    }

    private boolean check(String username, String password, Workspaces.SmtpAccount account) {
        byte[] digest = digest(password);
        Verified earlier = verified.get(username);
        if (account != null && earlier != null && earlier.untilNanos() - System.nanoTime() > 0
                && earlier.passwordHash().equals(account.passwordHash())
                && MessageDigest.isEqual(earlier.digest(), digest)) {
            return true;
        }
        bcryptChecks.increment();
        // Unknown users are checked against a dummy hash too, so timing does not tell which users exist.
        boolean valid;
        if (account == null) {
            bcrypt.matches(password, DUMMY_HASH);
            valid = false;
        } else {
            valid = bcrypt.matches(password, account.passwordHash());
        }
        if (valid) {
            verified.put(username, new Verified(digest, account.passwordHash(),
                    System.nanoTime() + LOGIN_MEMORY.toNanos()));
        }
        return valid;
    }

    private byte[] digest(String password) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(salt);
            return sha256.digest(password.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
