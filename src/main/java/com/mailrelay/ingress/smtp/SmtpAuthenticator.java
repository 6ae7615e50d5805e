package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.mailrelay.workspace.Workspaces;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.auth.LoginFailedException;
import org.subethamail.smtp.auth.UsernamePasswordValidator;
import org.subethamail.smtp.server.Session;

/**
 * Checks SMTP AUTH (PLAIN and LOGIN) credentials against the workspaces' BCrypt hashes. Refuses
 * AUTH outside TLS unless insecure AUTH is allowed, and answers an address that keeps failing
 * more and more slowly (one more second per failure, at most ten), which makes guessing slow.
 */
final class SmtpAuthenticator implements UsernamePasswordValidator {

    private static final Logger log = LoggerFactory.getLogger(SmtpAuthenticator.class);
    private static final Duration FAILURE_MEMORY = Duration.ofMinutes(15);
    private static final int MAX_DELAY_SECONDS = 10;

    private final Workspaces workspaces;
    private final boolean allowInsecureAuth;
    private final int failuresBeforeDelay;
    private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder();
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();
    private final String dummyHash = bcrypt.encode("no user has this password");

    private record Failures(int count, long lastNanos) {
    }

    SmtpAuthenticator(Workspaces workspaces, boolean allowInsecureAuth, int failuresBeforeDelay) {
        this.workspaces = workspaces;
        this.allowInsecureAuth = allowInsecureAuth;
        this.failuresBeforeDelay = failuresBeforeDelay;
    }

    @Override
    public void login(String username, String password, MessageContext context) throws LoginFailedException {
        InetAddress client = ((InetSocketAddress) context.getRemoteAddress()).getAddress();
        if (!allowInsecureAuth && context instanceof Session session && !session.isTLSStarted()) {
            log.info("SMTP AUTH from {} refused: not inside TLS", client.getHostAddress());
            throw new LoginFailedException("5.7.11 Encryption required: issue STARTTLS first");
        }
        // Counted as a failure before it is checked, so that guesses sent in parallel are slowed too.
        Failures before = failures.get(client);
        failures.merge(client, new Failures(1, System.nanoTime()),
                (old, one) -> new Failures(old.count() + 1, one.lastNanos()));
        slowDown(client, before);
        // Unknown users are checked against a dummy hash too, so timing does not tell which users exist.
        boolean valid = workspaces.smtpAccount(username)
                .map(account -> bcrypt.matches(password, account.passwordHash()))
                .orElseGet(() -> {
                    bcrypt.matches(password, dummyHash);
                    return false;
                });
        if (!valid) {
            log.info("SMTP AUTH failed for user '{}' from {}", username, client.getHostAddress());
            throw new LoginFailedException("5.7.8 Authentication credentials invalid");
        }
        failures.remove(client);
    }

    private void slowDown(InetAddress client, Failures seen) {
        if (seen == null) {
            return;
        }
        if (System.nanoTime() - seen.lastNanos() > FAILURE_MEMORY.toNanos()) {
            failures.remove(client);             // forgotten: this attempt starts a new count
            failures.put(client, new Failures(1, System.nanoTime()));
            return;
        }
        int excess = seen.count() - failuresBeforeDelay + 1;
        if (excess > 0) {
            try {
                TimeUnit.SECONDS.sleep(Math.min(excess, MAX_DELAY_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
