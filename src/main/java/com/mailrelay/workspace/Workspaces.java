package com.mailrelay.workspace;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.mailrelay.accept.Digests;
import com.mailrelay.config.RelayProperties;
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

    public Workspaces(RelayProperties properties) {
        this.byId = Map.copyOf(properties.workspaces());
        byId.forEach((id, workspace) -> workspace.apiKeySha256().forEach(
                digest -> workspaceByKeyDigest.put(digest.toLowerCase(Locale.ROOT), id)));
    }

    public Optional<RelayProperties.Workspace> find(String id) {
        return Optional.ofNullable(byId.get(id));
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
