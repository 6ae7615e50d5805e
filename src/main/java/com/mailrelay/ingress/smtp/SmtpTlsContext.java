package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.mailrelay.config.RelayProperties;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key pair STARTTLS presents: the configured PKCS#12 key store, or else a self-signed one
 * generated at the first start and kept, so that clients that pin it keep working across restarts.
 */
final class SmtpTlsContext {

    private static final Logger log = LoggerFactory.getLogger(SmtpTlsContext.class);
    /** A PKCS#12 file needs a password; the file's owner-only permissions are what keep the key private. */
    private static final char[] GENERATED_PASSWORD = "mail-relay".toCharArray();

    private SmtpTlsContext() {
    }

    static SSLContext create(RelayProperties.Tls tls, String hostName) {
        try {
            KeyStore keyStore;
            char[] password;
            if (tls.keyStore() != null && !tls.keyStore().isBlank()) {
                password = tls.keyStorePassword() == null ? new char[0] : tls.keyStorePassword().toCharArray();
                keyStore = load(Path.of(tls.keyStore()), password);
                log.info("SMTP STARTTLS uses the key store {}", tls.keyStore());
            } else {
                password = GENERATED_PASSWORD;
                keyStore = loadOrGenerate(Path.of(tls.generatedKeyStore()), hostName);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, new SecureRandom());
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up TLS for the SMTP server: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Path path, char[] password) throws GeneralSecurityException, IOException {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(path)) {
            keyStore.load(in, password);
        }
        return keyStore;
    }

    private static synchronized KeyStore loadOrGenerate(Path path, String hostName)
            throws GeneralSecurityException, IOException {
        if (Files.exists(path)) {
            log.info("SMTP STARTTLS uses the generated self-signed certificate in {}", path);
            return load(path, GENERATED_PASSWORD);
        }
        // An EC P-256 key: as strong as RSA-3072, and made in milliseconds, where a 2048-bit RSA
        // key took about a second of the first start's CPU (its prime search, before the JIT has
        // compiled BigInteger). Every TLS 1.2 and 1.3 client takes an ECDSA certificate.
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        X509Certificate certificate = selfSigned(pair, hostName);
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        keyStore.setKeyEntry("smtp", pair.getPrivate(), GENERATED_PASSWORD, new X509Certificate[] {certificate});
        if (path.getParent() != null) {
            Files.createDirectories(path.getParent());
        }
        Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        try {
            // Owner-only from the start: this file holds the private key.
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(temporary);
        }
        try (OutputStream out = Files.newOutputStream(temporary)) {
            keyStore.store(out, GENERATED_PASSWORD);
        }
        Files.move(temporary, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.warn("SMTP STARTTLS: no key store configured (relay.smtp.tls.key-store); generated a self-signed "
                + "certificate for {} in {}. Configure a real one for production.", hostName, path);
        return keyStore;
    }

    private static X509Certificate selfSigned(KeyPair pair, String hostName) throws GeneralSecurityException {
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=" + hostName);
        try {
            var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))),
                    subject, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, hostName)));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException | IOException e) {
            throw new GeneralSecurityException("cannot sign the certificate", e);
        }
    }
}
