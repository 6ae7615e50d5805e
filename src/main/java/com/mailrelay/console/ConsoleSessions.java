package com.mailrelay.console;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.AdminKeys;
import com.mailrelay.workspace.UnauthorizedException;
import com.mailrelay.workspace.Workspaces;
import org.springframework.stereotype.Component;

/**
 * The console's sessions: a sign-in with a key (an admin key, or a workspace's) makes one, held in
 * this instance's memory under a random token that only the session cookie carries. A session
 * keeps its key so that each request it makes is checked like any API call: a key revoked or a
 * workspace disabled ends what the session may do at once. Sessions end when unused for
 * relay.console.session-idle, at relay.console.session-max after sign-in, at sign-out, or when
 * the instance stops.
 */
@Component
public class ConsoleSessions {

    /** The cookie that carries the session's token. */
    public static final String COOKIE = "relay_console";

    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * @param workspace null for an admin key
     * @param keyName   the name of a workspace key made in the API, or null
     * @param csrfToken sent back in X-CSRF-Token with every change the session makes
     */
    public record Session(String token, String key, String workspace, String keyName, String csrfToken,
                          Instant signedInAt, Instant expiresAt) {

        public boolean admin() {
            return workspace == null;
        }

        /** Never the key or the tokens. */
        @Override
        public String toString() {
            return "Session[" + (admin() ? "admin" : "workspace " + workspace) + ", signed in " + signedInAt + "]";
        }
    }

    private final AdminKeys adminKeys;
    private final Workspaces workspaces;
    private final Clock clock;
    private final Duration max;
    private final Cache<String, Session> sessions;

    public ConsoleSessions(AdminKeys adminKeys, Workspaces workspaces, Clock clock, RelayProperties properties) {
        this.adminKeys = adminKeys;
        this.workspaces = workspaces;
        this.clock = clock;
        RelayProperties.Console console = properties.console();
        this.max = console.sessionMax();
        this.sessions = Caffeine.newBuilder().expireAfterAccess(console.sessionIdle())
                .maximumSize(console.maxSessions()).build();
    }

    /** A new session for a key, or {@link UnauthorizedException} naming why the key is refused. */
    public Session signIn(String key) {
        Workspaces.ApiKey apiKey = workspaceKey(key);
        Instant now = clock.instant();
        Session session = new Session(random(), key, apiKey == null ? null : apiKey.workspace(),
                apiKey == null ? null : apiKey.name(), random(), now, now.plus(max));
        sessions.put(session.token(), session);
        return session;
    }

    /** The live session of a token, or null (unknown, ended or past its maximum age). */
    public Session find(String token) {
        if (token == null || token.isEmpty()) {
            return null;
        }
        Session session = sessions.getIfPresent(token);
        if (session != null && !clock.instant().isBefore(session.expiresAt())) {
            sessions.invalidate(token);
            return null;
        }
        return session;
    }

    /** {@link #find}, and the key still signs in (not revoked, its workspace not disabled); else ended. */
    public Session findValid(String token) {
        Session session = find(token);
        if (session == null) {
            return null;
        }
        try {
            workspaceKey(session.key());
            return session;
        } catch (UnauthorizedException e) {
            sessions.invalidate(token);
            return null;
        }
    }

    /** The workspace key a key is, null for an admin key; {@link UnauthorizedException} when neither (now). */
    private Workspaces.ApiKey workspaceKey(String key) {
        String authorization = "Bearer " + key;
        return adminKeys.matches(authorization) ? null : workspaces.apiKey(authorization);
    }

    public void end(String token) {
        if (token != null) {
            sessions.invalidate(token);
        }
    }

    /** Whether a request's X-CSRF-Token is its session's (compared in constant time). */
    public static boolean csrfMatches(Session session, String presented) {
        return presented != null && MessageDigest.isEqual(session.csrfToken().getBytes(StandardCharsets.UTF_8),
                presented.getBytes(StandardCharsets.UTF_8));
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
