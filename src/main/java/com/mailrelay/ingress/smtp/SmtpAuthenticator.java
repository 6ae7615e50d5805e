package com.mailrelay.ingress.smtp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
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
 *
 * <p>Once an address has failed, its attempts still being checked count as failures too, so
 * that guesses sent in parallel are slowed as well; an address that has not failed is never
 * slowed, however many connections it opens at once. A successful login is remembered for a few
 * minutes (as a salted SHA-256 of the password), so that a client opening a pool of connections
 * pays for one BCrypt check, not one per connection.
 */
final class SmtpAuthenticator implements UsernamePasswordValidator {

    private static final Logger log = LoggerFactory.getLogger(SmtpAuthenticator.class);
    private static final Duration FAILURE_MEMORY = Duration.ofMinutes(15);
    private static final Duration LOGIN_MEMORY = Duration.ofMinutes(5);
    private static final int MAX_DELAY_SECONDS = 10;

    private final Workspaces workspaces;
    private final boolean allowInsecureAuth;
    private final int failuresBeforeDelay;
    private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder();
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();
    /** AUTH checks under way per address (entries removed at zero). */
    private final Map<InetAddress, Integer> checking = new ConcurrentHashMap<>();
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();
    private final byte[] salt = new byte[16];
    private final String dummyHash = bcrypt.encode("no user has this password");

    /** @param users the user names that failed: a success clears the count only if it is theirs alone */
    private record Failures(int count, long lastNanos, Set<String> users) {

        Failures plus(Failures one) {
            Set<String> all = new HashSet<>(users);
            all.addAll(one.users());
            return new Failures(count + 1, one.lastNanos(), all);
        }
    }

    private record Verified(byte[] digest, long untilNanos) {
    }

    SmtpAuthenticator(Workspaces workspaces, boolean allowInsecureAuth, int failuresBeforeDelay) {
        this.workspaces = workspaces;
        this.allowInsecureAuth = allowInsecureAuth;
        this.failuresBeforeDelay = failuresBeforeDelay;
        new SecureRandom().nextBytes(salt);
    }

    @Override
    public void login(String username, String password, MessageContext context) throws LoginFailedException {
        InetAddress client = ((InetSocketAddress) context.getRemoteAddress()).getAddress();
        if (!allowInsecureAuth && context instanceof Session session && !session.isTLSStarted()) {
            log.info("SMTP AUTH from {} refused: not inside TLS", client.getHostAddress());
            throw new LoginFailedException("5.7.11 Encryption required: issue STARTTLS first");
        }
        int othersChecking = checking.merge(client, 1, Integer::sum) - 1;
        boolean valid;
        try {
            slowDown(client, othersChecking);
            valid = check(username, password);
        } finally {
            checking.computeIfPresent(client, (c, count) -> count == 1 ? null : count - 1);
        }
        if (!valid) {
            failures.merge(client, new Failures(1, System.nanoTime(), Set.of(username)), Failures::plus);
            log.info("SMTP AUTH failed for user '{}' from {}", username, client.getHostAddress());
            throw new LoginFailedException("5.7.8 Authentication credentials invalid");
        }
        // A good login forgives the address only its own user's failures: logging in to one's own
        // account must not reset the count of guesses at someone else's.
        failures.computeIfPresent(client, (c, seen) -> Set.of(username).containsAll(seen.users()) ? null : seen);
    }

    private boolean check(String username, String password) {
        byte[] digest = digest(password);
        Verified earlier = verified.get(username);
        if (earlier != null && earlier.untilNanos() - System.nanoTime() > 0
                && MessageDigest.isEqual(earlier.digest(), digest)) {
            return true;
        }
        // Unknown users are checked against a dummy hash too, so timing does not tell which users exist.
        boolean valid = workspaces.smtpAccount(username)
                .map(account -> bcrypt.matches(password, account.passwordHash()))
                .orElseGet(() -> {
                    bcrypt.matches(password, dummyHash);
                    return false;
                });
        if (valid) {
            verified.put(username, new Verified(digest, System.nanoTime() + LOGIN_MEMORY.toNanos()));
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

    private void slowDown(InetAddress client, int othersChecking) {
        Failures seen = failures.get(client);
        if (seen == null) {
            return;
        }
        if (System.nanoTime() - seen.lastNanos() > FAILURE_MEMORY.toNanos()) {
            failures.remove(client, seen);       // forgotten: this attempt starts a new count
            return;
        }
        int excess = seen.count() + othersChecking - failuresBeforeDelay + 1;
        if (excess > 0) {
            try {
                TimeUnit.SECONDS.sleep(Math.min(excess, MAX_DELAY_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
