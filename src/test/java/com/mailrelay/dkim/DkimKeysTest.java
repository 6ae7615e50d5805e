package com.mailrelay.dkim;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.RelayProperties.DkimKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The checks on DKIM settings that stop a start (relay.workspaces.&lt;id&gt;.dkim), and the exact
 * bytes signing makes — no relay needed: DkimSigningTest has the end-to-end path and the
 * independent verifier.
 */
class DkimKeysTest {

    private static final KeyPair RSA_2048 = generate("RSA", 2048);

    @TempDir
    Path directory;

    @Test
    void pkcs8AndPkcs1KeysAreReadAndTheirPublicHalfIsTheRecord() throws Exception {
        String publicKey = Base64.getEncoder().encodeToString(RSA_2048.getPublic().getEncoded());
        Path file = directory.resolve("key.pem");
        Files.writeString(file, pkcs1(RSA_2048));

        List<DkimKeys.SigningKey> keys = DkimKeys.read("ws", List.of(
                new DkimKey("Example.COM", "s1", pkcs8(RSA_2048), null),
                new DkimKey("news.example.org", "mail.2026", null, file.toString()),
                // As an environment variable often holds it: the line breaks written as \n.
                new DkimKey("env.example.net", "s1", pkcs8(RSA_2048).replace("\n", "\\n"), null)));

        assertThat(keys).extracting(DkimKeys.SigningKey::domain)
                .containsExactly("example.com", "news.example.org", "env.example.net");
        assertThat(keys).allSatisfy(key -> assertThat(key.recordValue()).isEqualTo("v=DKIM1; k=rsa; p=" + publicKey));
        assertThat(keys.get(1).recordName()).isEqualTo("mail.2026._domainkey.news.example.org");
        assertThat(keys.get(0).toString()).doesNotContain(publicKey.substring(40, 80));
    }

    @Test
    void keysThatCannotSignWellStopTheStartNamingTheSetting() throws Exception {
        String shortKey = pkcs8(generate("RSA", 1024));
        assertRefused(new DkimKey("example.com", "s1", shortKey, null), shortKey,
                "relay.workspaces.ws.dkim[0].private-key", "1024 bits", "at least 2048");
        String ecKey = pkcs8(generate("EC", 256));
        assertRefused(new DkimKey("example.com", "s1", ecKey, null), ecKey, "is a EC key", "RSA");
        assertRefused(new DkimKey("example.com", "s1", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", null), "MIIEvQIBADAN",
                "is not a PEM private key");
        String publicOnly = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(
                RSA_2048.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        assertRefused(new DkimKey("example.com", "s1", publicOnly, null), "MIIB", "is not a PEM private key");
        String corrupt = pkcs8(RSA_2048).replace("MII", "MIX");
        assertRefused(new DkimKey("example.com", "s1", corrupt, null), corrupt.substring(40, 90), "private-key");
        StringWriter encrypted = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(encrypted)) {
            writer.writeObject(RSA_2048.getPrivate(), new JcePEMEncryptorBuilder("AES-128-CBC")
                    .setProvider(new BouncyCastleProvider()).build("pw".toCharArray()));
        }
        assertRefused(new DkimKey("example.com", "s1", encrypted.toString(), null), encrypted.toString().substring(120, 160),
                "encrypted");
        assertRefused(new DkimKey("example.com", "s1", null, directory.resolve("missing.pem").toString()), "-----",
                "private-key-file", "cannot read");
    }

    @Test
    void settingsThatNameNoKeyOrNoDomainStopTheStart() {
        String key = pkcs8(RSA_2048);
        assertRefused(new DkimKey("example.com", "s1", null, null), key, "dkim[0]", "either private-key");
        assertRefused(new DkimKey("example.com", "s1", key, "key.pem"), key, "not both");
        assertRefused(new DkimKey("exa mple.com", "s1", key, null), key, "dkim[0].domain");
        assertRefused(new DkimKey("localhost", "s1", key, null), key, "dkim[0].domain");
        assertRefused(new DkimKey("example.com", "s_1", key, null), key, "dkim[0].selector", "'s_1'");
        assertRefused(new DkimKey("example.com", "-s", key, null), key, "dkim[0].selector");
        assertThatThrownBy(() -> DkimKeys.read("ws", List.of(new DkimKey("example.com", "a", key, null),
                new DkimKey("EXAMPLE.com", "b", key, null))))
                .hasMessageContaining("relay.workspaces.ws.dkim[1].domain: example.com has another key");
    }

    @Test
    void theAuthorsDomainOrItsClosestParentWithAKeySigns() {
        String key = pkcs8(RSA_2048);
        DkimKeys keys = new DkimKeys(Map.of("ws", List.of(new DkimKey("example.com", "top", key, null),
                new DkimKey("eu.mail.example.com", "eu", key, null))));
        assertThat(keys.forDomain("ws", "example.com")).get().extracting(DkimKeys.SigningKey::selector).isEqualTo("top");
        assertThat(keys.forDomain("ws", "news.mail.example.com")).get().extracting(DkimKeys.SigningKey::selector)
                .isEqualTo("top");
        assertThat(keys.forDomain("ws", "x.eu.mail.example.com")).get().extracting(DkimKeys.SigningKey::selector)
                .isEqualTo("eu");
        assertThat(keys.forDomain("ws", "example.org")).isEmpty();
        assertThat(keys.forDomain("ws", "badexample.com")).isEmpty();
        assertThat(keys.forDomain("other", "example.com")).isEmpty();
        assertThat(keys.of("other")).isEmpty();
    }

    @Test
    void signingPutsOneFieldInFrontAndKeepsEveryOtherByte() {
        DkimKeys keys = new DkimKeys(Map.of("ws", List.of(new DkimKey("example.com", "s1", pkcs8(RSA_2048), null))));
        DkimSigning signing = new DkimSigning(keys, new SimpleMeterRegistry());
        byte[] mime = ("From: \"Sender, Inc.\" <News@Example.COM>\r\nTo: a@b.test\r\nSubject: Hi\r\n"
                + "X-Custom: kept\r\n\r\nbody  with  spaces \r\n\r\n").getBytes(StandardCharsets.US_ASCII);

        byte[] signed = signing.signed("ws", "m1", mime);
        String text = new String(signed, StandardCharsets.US_ASCII);
        assertThat(text).startsWith("DKIM-Signature: ");
        int end = text.indexOf("\r\nFrom: ") + 2;
        assertThat(Arrays.copyOfRange(signed, end, signed.length)).isEqualTo(mime);
        String field = text.substring(0, end);
        assertThat(field).contains("d=example.com;", "s=s1;", "a=rsa-sha256;", "c=relaxed/relaxed;",
                "h=from:from:subject:subject:to:to;");
        // Folded at tag boundaries, so no line is long (b= alone is 344 characters for 2048 bits).
        assertThat(field.split("\r\n")).allSatisfy(line -> assertThat(line.length()).isLessThan(400));

        // A message with bare LF line ends gets its field ended the same way.
        byte[] bareLf = "From: n@example.com\nSubject: x\n\nbody\n".getBytes(StandardCharsets.US_ASCII);
        String lf = new String(signing.signed("ws", "m2", bareLf), StandardCharsets.US_ASCII);
        assertThat(lf).doesNotContain("\r").endsWith("\nFrom: n@example.com\nSubject: x\n\nbody\n");

        // Nothing to sign as: no key for the author's domain, no From, two From fields.
        assertThat(signing.signed("ws", "m3", "From: a@other.test\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isNull();
        assertThat(signing.signed("ws", "m4", "To: a@example.com\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isNull();
        assertThat(signing.signed("ws", "m5", "From: a@example.com\r\nFrom: b@example.com\r\n\r\nx\r\n"
                .getBytes(StandardCharsets.US_ASCII))).isNull();
    }

    @Test
    void aMessageTheLibraryCannotReadLeavesUnsignedAndIsCounted() {
        DkimKeys keys = new DkimKeys(Map.of("ws", List.of(new DkimKey("example.com", "s1", pkcs8(RSA_2048), null))));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        DkimSigning signing = new DkimSigning(keys, meters);
        // A header line longer than the parser takes (jDKIM's limit is 10,000 characters).
        byte[] mime = ("From: a@example.com\r\nX-Long: " + "x".repeat(20_000) + "\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(signing.signed("ws", "m1", mime)).isNull();
        assertThat(meters.counter("relay.dkim.signatures", "workspace", "ws", "outcome", "failed").count()).isEqualTo(1);
    }

    @Test
    void theSignedHeaderSetCoversWhatIsPresentAndOversignsWhatReadersSee() {
        List<String> h = DkimSigning.signedHeaders(List.of("Received: x", "From: a", "To: b", "To: c",
                "List-Unsubscribe: <u>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "X-Mailer: y",
                "Content-Type: text/plain", "Message-ID: <m>"));
        assertThat(h).containsExactly("from", "from", "message-id", "to", "to", "to", "content-type",
                "list-unsubscribe", "list-unsubscribe", "list-unsubscribe-post", "list-unsubscribe-post");
    }

    /** A refused setting: the start fails naming it, and the message holds no part of the key. */
    private static void assertRefused(DkimKey setting, String secret, String... expected) {
        assertThatThrownBy(() -> DkimKeys.read("ws", List.of(setting)))
                .isInstanceOf(IllegalStateException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).contains(expected);
                    assertThat(e.getMessage()).doesNotContain(secret);
                    assertThat(e.getCause()).isNull();
                });
        assertThat(setting.toString()).doesNotContain(secret);
    }

    private static String pkcs8(KeyPair pair) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(pair.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    }

    private static String pkcs1(KeyPair pair) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(pair.getPrivate());
        }
        assertThat(out.toString()).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        return out.toString();
    }

    private static KeyPair generate(String algorithm, int size) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            generator.initialize(size);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
