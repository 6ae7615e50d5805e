package com.mailrelay.inbound;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import com.mailrelay.config.RelayProperties;
import org.springframework.stereotype.Component;

/**
 * Each workspace's keys for inbound provider events, read once at start: a SendGrid key that is
 * not an EC public key stops the relay rather than failing every request later.
 */
@Component
public class InboundSigningKeys {

    private final Map<String, byte[]> mailgunSigningKeys = new HashMap<>();
    private final Map<String, PublicKey> sendgridPublicKeys = new HashMap<>();

    public InboundSigningKeys(RelayProperties properties) {
        properties.workspaces().forEach((workspace, settings) -> {
            RelayProperties.InboundKeys keys = settings.inbound();
            if (present(keys.mailgunSigningKey())) {
                mailgunSigningKeys.put(workspace, keys.mailgunSigningKey().trim().getBytes(StandardCharsets.UTF_8));
            }
            if (present(keys.sendgridPublicKey())) {
                sendgridPublicKeys.put(workspace, ecPublicKey(workspace, keys.sendgridPublicKey()));
            }
        });
    }

    public byte[] mailgun(String workspace) {
        byte[] key = mailgunSigningKeys.get(workspace);
        if (key == null) {
            throw notFound(workspace, InboundProvider.MAILGUN);
        }
        return key;
    }

    public PublicKey sendgrid(String workspace) {
        PublicKey key = sendgridPublicKeys.get(workspace);
        if (key == null) {
            throw notFound(workspace, InboundProvider.SENDGRID);
        }
        return key;
    }

    /** One answer whether the workspace is unknown or has no key: the path names no endpoint either way. */
    private static InboundEndpointNotFoundException notFound(String workspace, InboundProvider provider) {
        return new InboundEndpointNotFoundException("no " + provider.id() + " event webhook for workspace '"
                + workspace + "'");
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    /** SendGrid shows the key as base64 DER (SubjectPublicKeyInfo); a PEM frame around it is accepted too. */
    private static PublicKey ecPublicKey(String workspace, String text) {
        String base64 = text.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        try {
            PublicKey key = KeyFactory.getInstance("EC")
                    .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
            if (!(key instanceof ECPublicKey)) {
                throw new GeneralSecurityException("not an EC key");
            }
            return key;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("relay.workspaces." + workspace + ".inbound.sendgrid-public-key is not"
                    + " a base64 EC public key: " + e.getMessage(), e);
        }
    }
}
