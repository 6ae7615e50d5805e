package com.mailrelay.workspace;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.Digests;
import org.springframework.stereotype.Component;

/**
 * The configured workspaces (tenants) and the API keys that select them.
 * Keys are compared by their SHA-256 digest: API keys are long random tokens, so a fast
 * hash is enough and the configuration never holds a usable secret.
 */
@Component
public class Workspaces {

    private final Map<String, RelayProperties.Workspace> byId;
    private final Map<String, String> workspaceByKeyDigest = new HashMap<>();
    private final Map<String, String> workspaceBySmtpUser = new HashMap<>();
    private final Map<String, String> workspaceBySenderDomain = new HashMap<>();

    public Workspaces(RelayProperties properties) {
        this.byId = Map.copyOf(properties.workspaces());
        byId.forEach((id, workspace) -> {
            workspace.apiKeySha256().forEach(digest -> workspaceByKeyDigest.put(digest.toLowerCase(Locale.ROOT), id));
            workspace.smtpUsers().keySet().forEach(user -> claim(workspaceBySmtpUser, user, id, "SMTP user"));
            workspace.senderDomains().forEach(domain ->
                    claim(workspaceBySenderDomain, senderDomain(id, domain), id, "sender domain"));
        });
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

    public Optional<RelayProperties.Workspace> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** The workspace of an SMTP user, with the BCrypt hash to check the password against. */
    public Optional<SmtpAccount> smtpAccount(String username) {
        String workspace = workspaceBySmtpUser.get(username);
        return workspace == null ? Optional.empty()
                : Optional.of(new SmtpAccount(workspace, byId.get(workspace).smtpUsers().get(username)));
    }

    public record SmtpAccount(String workspace, String passwordHash) {
    }

    /** The workspace that sends from a domain, for submissions from trusted networks. */
    public Optional<String> forSenderDomain(String domain) {
        return Optional.ofNullable(workspaceBySenderDomain.get(comparable(domain)));
    }

    /**
     * Whether a workspace may use this sender domain (MAIL FROM, From:, Sender:): one it lists,
     * or, when it lists none, any domain that no other workspace claims — a workspace without
     * sender-domains must not be able to send as a domain another tenant owns.
     */
    public boolean mayUseSenderDomain(String workspace, String domain) {
        String owner = workspaceBySenderDomain.get(comparable(domain));
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

    /** The workspace an {@code Authorization: Bearer <key>} header selects. */
    public String authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new UnauthorizedException("missing API key: send 'Authorization: Bearer <key>'");
        }
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
            throw new UnauthorizedException("the Authorization header must use the Bearer scheme");
        }
        String workspace = workspaceByKeyDigest.get(Digests.sha256Hex(parts[1]));
        if (workspace == null) {
            throw new UnauthorizedException("unknown API key");
        }
        return workspace;
    }
}
