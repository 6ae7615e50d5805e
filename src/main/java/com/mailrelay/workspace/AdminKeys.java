package com.mailrelay.workspace;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import org.springframework.stereotype.Component;

/** The management API's keys (relay.admin.api-key-sha256), separate from any workspace's. */
@Component
public class AdminKeys {

    private final Set<String> digests;

    public AdminKeys(RelayProperties properties) {
        this.digests = properties.admin().apiKeySha256().stream().map(d -> d.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
    }

    /** Whether an {@code Authorization} header carries one of the admin keys. */
    public boolean matches(String authorization) {
        String key = authorization == null ? "" : authorization.trim();
        return key.regionMatches(true, 0, "Bearer ", 0, 7) && digests.contains(Digests.sha256Hex(key.substring(7).trim()));
    }

    public void authenticate(String authorization) {
        if (!matches(authorization)) {
            throw new UnauthorizedException("this endpoint needs an admin key: 'Authorization: Bearer <admin key>'");
        }
    }
}
