package com.mailrelay.dkim;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.workspace.SettingsCheck;
import com.mailrelay.workspace.Workspaces;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The workspaces' DKIM keys (relay.workspaces.&lt;id&gt;.dkim, or a workspace's settings made through
 * the admin API), read and checked before use: in application.yml, a key that cannot be read, is not
 * RSA, is shorter than 2048 bits, or a domain or selector that is not one, stops the relay from
 * starting with a message naming the setting; through the API, the same is a 400 naming the field.
 * Keys are read again when a workspace's DKIM settings change, without a restart. A bad key found at
 * start costs a restart; found at delivery it would cost every message of the domain its
 * signature (or its delivery). Key material is never part of a message, a log line or a
 * toString.
 */
@Component
public class DkimKeys {

    private static final Logger log = LoggerFactory.getLogger(DkimKeys.class);

    /** Below this, receivers (Gmail, Yahoo) treat a signature as weak or ignore it; RFC 8301 requires 1024 at least. */
    static final int MIN_BITS = 2048;

    /** RFC 6376 3.1: selector = sub-domain *( "." sub-domain ), each an LDH label. */
    private static final Pattern SELECTOR =
            Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /**
     * A workspace's key for one domain, ready to sign with.
     *
     * @param publicKey base64 of the public key's SubjectPublicKeyInfo (DER): the p= of the DNS record
     */
    public record SigningKey(String domain, String selector, PrivateKey privateKey, String publicKey) {

        /** Where the public key is published: {@code <selector>._domainkey.<domain>} (TXT). */
        public String recordName() {
            return selector + "._domainkey." + domain;
        }

        /** The TXT record's value (RFC 6376 3.6.1). */
        public String recordValue() {
            return "v=DKIM1; k=rsa; p=" + publicKey;
        }

        @Override
        public String toString() {
            return "SigningKey[d=" + domain + ", s=" + selector + "]";
        }
    }

    /** The keys read from one version of a workspace's settings: read again only when the settings change. */
    private record Entry(List<RelayProperties.DkimKey> settings, List<SigningKey> keys) {
    }

    private final Function<String, List<RelayProperties.DkimKey>> settingsOf;
    private final Map<String, Entry> byWorkspace = new ConcurrentHashMap<>();

    /**
     * The keys of every workspace as {@link Workspaces} has them now: those of application.yml are
     * checked here, so a bad one stops the start; a workspace made or changed through the API had
     * its keys checked before they were stored ({@link #problems}), and they are read at its
     * first message after the change.
     */
    @Autowired
    public DkimKeys(RelayProperties properties, Workspaces workspaces) {
        this(settings(properties), id -> workspaces.find(id).map(RelayProperties.Workspace::dkim).orElse(List.of()));
    }

    /** From fixed settings (in workspace order). */
    DkimKeys(Map<String, List<RelayProperties.DkimKey>> settings) {
        this(settings, id -> settings.getOrDefault(id, List.of()));
    }

    private DkimKeys(Map<String, List<RelayProperties.DkimKey>> checkedNow,
                     Function<String, List<RelayProperties.DkimKey>> settingsOf) {
        this.settingsOf = settingsOf;
        checkedNow.forEach((id, workspace) -> {
            List<SigningKey> read = read(id, workspace);
            byWorkspace.put(id, new Entry(workspace, read));
            if (!read.isEmpty()) {
                log.info("DKIM: workspace {} signs for {}", id,
                        read.stream().map(k -> k.selector() + "._domainkey." + k.domain()).toList());
            }
        });
    }

    private static Map<String, List<RelayProperties.DkimKey>> settings(RelayProperties properties) {
        Map<String, List<RelayProperties.DkimKey>> settings = new LinkedHashMap<>();
        properties.workspaces().forEach((id, workspace) -> settings.put(id, workspace.dkim()));
        return settings;
    }

    /** The workspace's keys in configuration order (empty when it has none, or is unknown). */
    public List<SigningKey> of(String workspace) {
        if (workspace == null) {
            return List.of();
        }
        List<RelayProperties.DkimKey> settings = settingsOf.apply(workspace);
        if (settings == null || settings.isEmpty()) {
            return List.of();
        }
        Entry entry = byWorkspace.get(workspace);
        if (entry != null && entry.settings().equals(settings)) {
            return entry.keys();
        }
        List<SigningKey> keys;
        try {
            keys = read(workspace, settings);
            log.info("DKIM: workspace {} signs for {}", workspace,
                    keys.stream().map(k -> k.selector() + "._domainkey." + k.domain()).toList());
        } catch (IllegalStateException e) {
            // Checked when stored; a key file gone since then: its mail goes out unsigned, said once per change.
            log.error("DKIM: workspace {} signs nothing: {}", workspace, e.getMessage());
            keys = List.of();
        }
        byWorkspace.put(workspace, new Entry(settings, keys));
        return keys;
    }

    /**
     * The problem of a workspace's DKIM settings as the admin API names it (e.g.
     * {@code dkim[0].private_key}): the first one found, as at start.
     */
    public static List<FieldError> problems(String workspace, List<RelayProperties.DkimKey> settings) {
        try {
            read(workspace, settings);
            return List.of();
        } catch (IllegalStateException e) {
            String message = e.getMessage();
            String prefix = "relay.workspaces." + workspace + ".";
            String rest = message.startsWith(prefix) ? message.substring(prefix.length()) : message;
            int colon = rest.indexOf(": ");
            String field = colon < 0 ? "dkim" : rest.substring(0, colon).replace('-', '_');
            return List.of(new FieldError(field, colon < 0 ? rest : rest.substring(colon + 2)));
        }
    }

    /** The admin API's check before it stores a workspace's settings. */
    @Component
    static class Check implements SettingsCheck {
        @Override
        public List<FieldError> problems(String workspace, RelayProperties.Workspace settings) {
            return DkimKeys.problems(workspace, settings.dkim());
        }
    }

    /**
     * The key to sign mail from this (author) domain with: the workspace's key for the domain
     * itself, else for its closest parent domain that has one — d=example.com signing for
     * news.example.com still aligns with the From domain under DMARC's relaxed alignment (the
     * default, adkim=r).
     */
    public Optional<SigningKey> forDomain(String workspace, String domain) {
        List<SigningKey> keys = of(workspace);
        if (keys.isEmpty() || domain == null) {
            return Optional.empty();
        }
        String candidate = domain;
        while (true) {
            for (SigningKey key : keys) {
                if (key.domain().equals(candidate)) {
                    return Optional.of(key);
                }
            }
            int dot = candidate.indexOf('.');
            if (dot < 0) {
                return Optional.empty();
            }
            candidate = candidate.substring(dot + 1);
        }
    }

    /** Reads and checks one workspace's settings; the first problem fails the start. */
    static List<SigningKey> read(String workspace, List<RelayProperties.DkimKey> settings) {
        List<SigningKey> keys = new ArrayList<>();
        Set<String> domains = new HashSet<>();
        for (int i = 0; i < settings.size(); i++) {
            RelayProperties.DkimKey setting = settings.get(i);
            String prefix = "relay.workspaces." + workspace + ".dkim[" + i + "]";
            String domain = domain(prefix, setting.domain());
            if (!domains.add(domain)) {
                throw new IllegalStateException(prefix + ".domain: " + domain
                        + " has another key in this workspace; a domain has one signing key");
            }
            String selector = setting.selector() == null ? "" : setting.selector().trim();
            if (!SELECTOR.matcher(selector).matches()) {
                throw new IllegalStateException(prefix + ".selector: '" + selector
                        + "' is not a selector (letters, digits and hyphens, in dot-separated labels)");
            }
            PrivateKey privateKey = privateKey(prefix, setting);
            keys.add(new SigningKey(domain, selector, privateKey, publicKey(prefix, privateKey)));
        }
        return List.copyOf(keys);
    }

    private static String domain(String prefix, String value) {
        try {
            String domain = Addresses.canonicalDomain(value == null ? "" : value.trim());
            if (!domain.contains(".")) {
                throw new IllegalStateException(prefix + ".domain: '" + value + "' is not a domain one signs for");
            }
            return domain;
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(prefix + ".domain: '" + value + "' " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(String prefix, RelayProperties.DkimKey setting) {
        boolean inline = setting.privateKey() != null && !setting.privateKey().isBlank();
        boolean file = setting.privateKeyFile() != null && !setting.privateKeyFile().isBlank();
        if (inline == file) {
            throw new IllegalStateException(prefix + ": give the key as either private-key (PEM, e.g. ${DKIM_KEY})"
                    + " or private-key-file, " + (inline ? "not both" : "one of them"));
        }
        String pem;
        String source;
        if (inline) {
            // An environment variable often carries the PEM with its line breaks written as \n.
            pem = setting.privateKey().replace("\\n", "\n");
            source = prefix + ".private-key";
        } else {
            source = prefix + ".private-key-file";
            try {
                pem = Files.readString(Path.of(setting.privateKeyFile().trim()), StandardCharsets.US_ASCII);
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(source + ": cannot read " + setting.privateKeyFile().trim() + " ("
                        + e.getClass().getSimpleName() + ")");
            }
        }
        PrivateKey key = parse(source, pem);
        if (!(key instanceof RSAPrivateKey rsa)) {
            throw new IllegalStateException(source + ": is a " + key.getAlgorithm()
                    + " key; DKIM signing here takes an RSA key (rsa-sha256)");
        }
        int bits = rsa.getModulus().bitLength();
        if (bits < MIN_BITS) {
            throw new IllegalStateException(source + ": the RSA key has " + bits + " bits; at least " + MIN_BITS
                    + " are needed (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)");
        }
        try {
            Signature.getInstance("SHA256withRSA").initSign(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(source + ": the key cannot sign with rsa-sha256 ("
                    + e.getClass().getSimpleName() + ")");
        }
        return key;
    }

    /**
     * A PEM private key: PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"), unencrypted. Parse
     * errors are reported by their type only, so that no part of the key reaches a log.
     */
    private static PrivateKey parse(String setting, String pem) {
        Object object;
        try (PEMParser parser = new PEMParser(new StringReader(pem.trim()))) {
            object = parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(setting + ": cannot be read as a PEM private key ("
                    + e.getClass().getSimpleName() + ")");
        }
        if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
            throw new IllegalStateException(setting + ": the key is encrypted; give it unencrypted"
                    + " (openssl pkey -in key.pem -out plain.pem) and keep it secret by where it is stored");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(setting + ": the PEM does not hold a usable private key ("
                    + e.getClass().getSimpleName() + ")");
        }
        throw new IllegalStateException(setting + ": is not a PEM private key (-----BEGIN PRIVATE KEY----- or"
                + " -----BEGIN RSA PRIVATE KEY-----)" + (object == null ? "" : "; it holds a "
                + object.getClass().getSimpleName()));
    }

    /** The public half, as the DNS record publishes it (from the private key's CRT parameters). */
    private static String publicKey(String prefix, PrivateKey key) {
        if (!(key instanceof RSAPrivateCrtKey crt)) {
            throw new IllegalStateException(prefix + ": the RSA key lacks its public exponent (CRT form);"
                    + " give the full key as openssl writes it");
        }
        try {
            byte[] encoded = KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent())).getEncoded();
            return Base64.getEncoder().encodeToString(encoded);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(prefix + ": the public key cannot be derived ("
                    + e.getClass().getSimpleName() + ")");
        }
    }
}
