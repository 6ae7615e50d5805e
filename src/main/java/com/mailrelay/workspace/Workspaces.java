package com.mailrelay.workspace;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.Digests;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The workspaces (tenants) and the API keys and SMTP users that select them: a cache, on every
 * instance, of the tables of {@link WorkspaceStore}. At start relay.workspaces of application.yml
 * is written there (so the embedded default and GitOps users keep working), then everything is
 * read; afterwards {@link #refresh} (the route {@code workspaces-refresh}, every
 * relay.tenants.refresh-interval) reads the one-row change counter and reloads only when it moved,
 * so a workspace, key or user made or revoked on any instance applies on every other within
 * that interval, and on the instance that made it at once ({@link #changed}).
 * <p>
 * Keys are compared by their SHA-256 digest: API keys are long random tokens, so a fast hash is
 * enough and the database never holds a usable secret. The last time each key was used is kept in
 * memory and written every relay.tenants.last-used-flush-interval ({@link #flushLastUsed}), not
 * once per request.
 */
@Component
public class Workspaces {

    private static final Logger log = LoggerFactory.getLogger(Workspaces.class);

    /** One API key as a request presents it: its workspace, and its name when the API made it (null for application.yml's). */
    public record ApiKey(long id, String workspace, String name) {
    }

    public record SmtpAccount(String workspace, String passwordHash, boolean enabled) {
        public SmtpAccount(String workspace, String passwordHash) {
            this(workspace, passwordHash, true);
        }
    }

    /** Everything the cache answers from, replaced whole (readers never see half a reload). */
    private record Snapshot(long version, Map<String, RelayProperties.Workspace> byId, Map<String, Boolean> enabled,
                            Map<String, ApiKey> keyByDigest, Map<String, SmtpAccount> smtpUsers,
                            Map<String, String> bySenderDomain) {
    }

    private final WorkspaceStore store;
    private final Clock clock;
    private final List<WorkspaceStore.ConfigChange> startChanges;
    private final Map<Long, Instant> lastUsed = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;
    private volatile boolean failing;

    public Workspaces(RelayProperties properties, WorkspaceStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        // Claims within application.yml are checked before anything is written: a start with a user
        // or sender domain in two workspaces fails naming both, as before the database held them.
        Map<String, String> users = new HashMap<>();
        Map<String, String> domains = new HashMap<>();
        properties.workspaces().forEach((id, workspace) -> {
            workspace.smtpUsers().keySet().forEach(user -> claim(users, user, id, "SMTP user"));
            workspace.senderDomains().forEach(domain -> claim(domains, senderDomain(id, domain), id, "sender domain"));
        });
        this.startChanges = List.copyOf(store.applyConfig(new LinkedHashMap<>(properties.workspaces()), clock.instant()));
        this.snapshot = build(store.load());
        log.info("workspaces: {} loaded ({} from application.yml), version {}", snapshot.byId().size(),
                properties.workspaces().size(), snapshot.version());
    }

    /** What applying application.yml at start changed (tenants/ writes it to the audit log). */
    public List<WorkspaceStore.ConfigChange> startChanges() {
        return startChanges;
    }

    /** Reloads the cache when the tables changed since it was read (one read of the version row otherwise). */
    public void refresh() {
        try {
            if (store.version() != snapshot.version()) {
                snapshot = build(store.load());
                log.debug("workspaces reloaded at version {}", snapshot.version());
            }
            if (failing) {
                failing = false;
                log.info("workspaces: the database answers again; the cache is current");
            }
        } catch (RuntimeException e) {
            if (!failing) {
                failing = true;
                log.warn("workspaces: cannot read the database ({}); the cache stays as it was", e.toString());
            }
        }
    }

    /** After a change made here: read it at once, so that the answer to the change already holds on this instance. */
    public void changed() {
        snapshot = build(store.load());
    }

    /** Writes the keys' last-used times gathered since the last flush (a failed write keeps them for the next). */
    public void flushLastUsed() {
        if (lastUsed.isEmpty()) {
            return;
        }
        Map<Long, Instant> taken = new HashMap<>(lastUsed);
        try {
            store.lastUsed(taken);
            taken.forEach(lastUsed::remove);
        } catch (RuntimeException e) {
            log.warn("workspaces: cannot write the API keys' last-used times ({}); trying again later", e.toString());
        }
    }

    /** The last uses not yet written, at shutdown (the database is still open: this bean depends on it). */
    @PreDestroy
    public void close() {
        flushLastUsed();
    }

    private static Snapshot build(WorkspaceStore.Loaded loaded) {
        Map<String, RelayProperties.Workspace> byId = new LinkedHashMap<>();
        Map<String, Boolean> enabled = new HashMap<>();
        Map<String, String> bySenderDomain = new HashMap<>();
        for (WorkspaceStore.Row row : loaded.workspaces()) {
            byId.put(row.id(), row.settings());
            enabled.put(row.id(), row.enabled());
            for (String domain : row.settings().senderDomains()) {
                String owner = bySenderDomain.putIfAbsent(comparable(domain), row.id());
                if (owner != null && !owner.equals(row.id())) {
                    log.warn("sender domain {} is claimed by workspaces {} and {}; {} keeps it", domain, owner,
                            row.id(), owner);
                }
            }
        }
        Map<String, ApiKey> keys = new HashMap<>();
        loaded.keys().stream().filter(k -> k.revokedAt() == null && byId.containsKey(k.workspace()))
                .forEach(k -> keys.put(k.sha256(), new ApiKey(k.id(), k.workspace(),
                        WorkspaceStore.CONFIG.equals(k.source()) ? null : k.name())));
        Map<String, SmtpAccount> users = new HashMap<>();
        loaded.users().stream().filter(u -> byId.containsKey(u.workspace()))
                .forEach(u -> users.put(u.username(), new SmtpAccount(u.workspace(), u.passwordHash(),
                        enabled.get(u.workspace()))));
        return new Snapshot(loaded.version(), Map.copyOf(byId), Map.copyOf(enabled), Map.copyOf(keys),
                Map.copyOf(users), Map.copyOf(bySenderDomain));
    }

    /** A configured sender domain as every comparison sees it: lower-case ASCII (IDN as punycode). */
    private static String senderDomain(String workspace, String domain) {
        try {
            return Addresses.canonicalDomain(domain.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("relay.workspaces." + workspace + ".sender-domains: '" + domain + "' "
                    + e.getMessage(), e);
        }
    }

    /** A user name or sender domain must name one workspace, or it could not select one. */
    private static void claim(Map<String, String> index, String key, String workspace, String what) {
        String other = index.putIfAbsent(key, workspace);
        if (other != null && !other.equals(workspace)) {
            throw new IllegalStateException(what + " '" + key + "' is configured for workspaces " + other
                    + " and " + workspace + "; it must belong to one");
        }
    }

    /** A workspace's settings, enabled or not (delivery, DKIM and webhooks go on for mail already accepted). */
    public Optional<RelayProperties.Workspace> find(String id) {
        return id == null ? Optional.empty() : Optional.ofNullable(snapshot.byId().get(id));
    }

    /** Every workspace by id (enabled or not), as of the last refresh. */
    public Map<String, RelayProperties.Workspace> all() {
        return snapshot.byId();
    }

    /** Whether the workspace exists and is enabled: a disabled one accepts nothing. */
    public boolean enabled(String id) {
        return id != null && snapshot.enabled().getOrDefault(id, false);
    }

    /** The workspace that owns a sender domain (any workspace, enabled or not), if one lists it. */
    public Optional<String> ownerOfSenderDomain(String domain) {
        return Optional.ofNullable(snapshot.bySenderDomain().get(comparable(domain)));
    }

    /**
     * The workspace of an SMTP user, with the BCrypt hash to check the password against and whether
     * the workspace is enabled (a disabled one's users are refused after their password is checked).
     */
    public Optional<SmtpAccount> smtpAccount(String username) {
        return username == null ? Optional.empty() : Optional.ofNullable(snapshot.smtpUsers().get(username));
    }

    /** The workspace that sends from a domain, for submissions from trusted networks (enabled or not: the caller refuses). */
    public Optional<String> forSenderDomain(String domain) {
        return ownerOfSenderDomain(domain);
    }

    /**
     * Whether a workspace may use this sender domain (MAIL FROM, From:, Sender:): one it lists,
     * or, when it lists none, any domain that no other workspace claims — a workspace without
     * sender-domains must not be able to send as a domain another tenant owns.
     */
    public boolean mayUseSenderDomain(String workspace, String domain) {
        String owner = snapshot.bySenderDomain().get(comparable(domain));
        if (owner != null) {
            return owner.equals(workspace);
        }
        List<String> allowed = find(workspace).map(RelayProperties.Workspace::senderDomains).orElse(List.of());
        return allowed.isEmpty();
    }

    private static String comparable(String domain) {
        try {
            return Addresses.canonicalDomain(domain);
        } catch (IllegalArgumentException e) {
            return domain.toLowerCase(Locale.ROOT);
        }
    }

    /** A key's last use seen here and not yet written to api_keys.last_used_at, or null. */
    public Instant unwrittenLastUse(long keyId) {
        return lastUsed.get(keyId);
    }

    /** The workspace an {@code Authorization: Bearer <key>} header selects. */
    public String authenticate(String authorization) {
        return apiKey(authorization).workspace();
    }

    /**
     * The key an {@code Authorization: Bearer <key>} header presents (401 when it is missing,
     * unknown, revoked, or its workspace is disabled); its use is noted for last_used_at.
     */
    public ApiKey apiKey(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new UnauthorizedException("missing API key: send 'Authorization: Bearer <key>'");
        }
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
            throw new UnauthorizedException("the Authorization header must use the Bearer scheme");
        }
        ApiKey key = snapshot.keyByDigest().get(Digests.sha256Hex(parts[1]));
        if (key == null) {
            throw new UnauthorizedException("unknown API key");
        }
        if (!enabled(key.workspace())) {
            throw new UnauthorizedException("workspace " + key.workspace() + " is disabled; its keys are refused"
                    + " until an admin enables it");
        }
        lastUsed.put(key.id(), clock.instant());
        return key;
    }
}
