package com.mailrelay.inbound;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.workspace.SettingsCheck;
import com.mailrelay.workspace.Workspaces;
import org.springframework.stereotype.Component;

/**
 * Each workspace's keys for inbound provider events. Those of application.yml are read at start:
 * a SendGrid key that is not an EC public key stops the relay rather than failing every request
 * later. A workspace's keys set through the admin API were checked before they were stored
 * ({@link Check}); each is read when its workspace's setting changes, without a restart.
 */
@Component
public class InboundSigningKeys {

    /** A SendGrid key as last read, with the text it was read from. */
    private record ReadKey(String text, PublicKey key) {
    }

    private final Workspaces workspaces;
    private final Map<String, ReadKey> sendgridPublicKeys = new ConcurrentHashMap<>();

    public InboundSigningKeys(RelayProperties properties, Workspaces workspaces) {
        this.workspaces = workspaces;
        properties.workspaces().forEach((workspace, settings) -> {
            String sendgrid = settings.inbound().sendgridPublicKey();
            if (present(sendgrid)) {
                sendgridPublicKeys.put(workspace, new ReadKey(sendgrid, ecPublicKey(workspace, sendgrid)));
            }
        });
    }

    private RelayProperties.InboundKeys keys(String workspace) {
        return workspaces.find(workspace).map(RelayProperties.Workspace::inbound)
                .orElse(new RelayProperties.InboundKeys(null, null));
    }

    public byte[] mailgun(String workspace) {
        String key = keys(workspace).mailgunSigningKey();
        if (!present(key)) {
            throw notFound(workspace, InboundProvider.MAILGUN);
        }
        return key.trim().getBytes(StandardCharsets.UTF_8);
    }

    public PublicKey sendgrid(String workspace) {
        String text = keys(workspace).sendgridPublicKey();
        if (!present(text)) {
            throw notFound(workspace, InboundProvider.SENDGRID);
        }
        ReadKey read = sendgridPublicKeys.get(workspace);
        if (read == null || !read.text().equals(text)) {
            read = new ReadKey(text, ecPublicKey(workspace, text));
            sendgridPublicKeys.put(workspace, read);
        }
        return read.key();
    }

    /** The admin API's check of a SendGrid key before it stores it. */
    @Component
    static class Check implements SettingsCheck {
        @Override
        public List<FieldError> problems(String workspace, RelayProperties.Workspace settings) {
            String text = settings.inbound() == null ? null : settings.inbound().sendgridPublicKey();
            if (!present(text)) {
                return List.of();
            }
            try {
                ecPublicKey(workspace, text);
                return List.of();
            } catch (IllegalStateException e) {
                return List.of(new FieldError("inbound.sendgrid_public_key",
                        "must be the base64 EC (P-256) public key SendGrid shows for its signed Event Webhook"));
            }
        }
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
