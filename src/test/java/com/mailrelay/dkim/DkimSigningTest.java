package com.mailrelay.dkim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * DKIM signing end to end: REST → queue → chain-dkim (test-routes/dkim.camel.yaml) → an smtp
 * provider → GreenMail ("spare"). What GreenMail received is checked by an independent verifier,
 * dkimpy (Debian's python3-dkim, src/test/resources/dkim/verify.py), against the public key the
 * relay's API publishes — no DNS: the verifier is handed that record. Workspace via-dkim has a
 * key for dkim.test (application-test.yml, a test key).
 */
class DkimSigningTest extends RelayTestSupport {

    private static final String RECORD_NAME = "relay2026._domainkey.dkim.test";
    private static final Path VERIFIER = Path.of("src/test/resources/dkim/verify.py");

    private static String python;

    /**
     * The interpreter that has dkimpy: python3 on the PATH, else the system's (where Debian's
     * python3-dkim installs it when another python3 comes first). None is a failure, not a skip:
     * CI installs python3-dkim (.ci/run).
     */
    @BeforeAll
    static void findVerifier() {
        for (String candidate : List.of("python3", "/usr/bin/python3")) {
            try {
                if (run(List.of(candidate, "-c", "import dkim"), new byte[0]).exit() == 0) {
                    python = candidate;
                    return;
                }
            } catch (IOException e) {
                // not installed under this name: try the next
            }
        }
        fail("the DKIM verifier dkimpy is missing: install python3-dkim (apt-get install -y python3-dkim)");
    }

    @Test
    void signedMailVerifiesAgainstThePublishedRecordAndFailsOnceTheBodyChanges() throws Exception {
        String record = publishedRecord();
        // Marketing mail gets List-Unsubscribe and List-Unsubscribe-Post, which must be signed.
        String id = submit("via-dkim", Map.of("from", "Dkim News <news@dkim.test>", "to", List.of("reader@signed.test"),
                "cc", List.of("copy@signed.test"), "reply_to", "help@dkim.test", "subject", "Signed  news",
                "type", "marketing", "text", "Body of the signed message.\nSecond line, trailing space \n"));
        awaitStatus(id, "SENT");
        byte[] received = receivedBytes(id);
        String signature = field(received, "DKIM-Signature");

        assertThat(signature).contains("a=rsa-sha256").contains("c=relaxed/relaxed").contains("d=dkim.test")
                .contains("s=relay2026").doesNotContain("l=");
        List<String> signed = Arrays.asList(tag(signature, "h").split(":"));
        // From oversigned (once more than present), the one-click pair signed (RFC 8058) and oversigned.
        assertThat(signed).containsSubsequence("from", "from").contains("to", "cc", "subject", "date", "message-id",
                "reply-to", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post");
        assertThat(signed.stream().filter("list-unsubscribe-post"::equals)).hasSize(2);
        assertThat(field(received, "List-Unsubscribe-Post")).isNotNull();

        assertThat(verify(received, record)).as("dkimpy verifies the delivered message").isEqualTo("verified");

        // One byte of the body changed: the body hash no longer matches.
        byte[] tampered = received.clone();
        int body = bodyStart(tampered);
        int at = indexOf(tampered, "signed message".getBytes(StandardCharsets.US_ASCII), body);
        assertThat(at).isPositive();
        tampered[at] = 'S';
        assertThat(verify(tampered, record)).isEqualTo("not verified");

        // What arrived is the accepted MIME with one field in front, byte for byte as SMTP carries
        // it (the relay's own bytes are checked exactly in DkimKeysTest).
        byte[] stored = (byte[]) row(id).get("raw_mime");
        assertThat(wire(withoutSignature(received))).isEqualTo(wire(stored));
    }

    @Test
    void aSubdomainIsSignedWithItsParentDomainsKey() throws Exception {
        String id = submit("via-dkim", message("Alerts <alerts@mail.dkim.test>", "ops@signed.test", "From a subdomain"));
        awaitStatus(id, "SENT");
        byte[] received = receivedBytes(id);
        assertThat(field(received, "DKIM-Signature")).contains("d=dkim.test");
        assertThat(verify(received, publishedRecord())).isEqualTo("verified");
    }

    @Test
    void mailWithoutAKeyLeavesUnsigned() throws Exception {
        // A From domain the workspace has no key for.
        String otherDomain = submit("via-dkim", message("news@other-dkim.test", "reader@signed.test", "No key for it"));
        // A provider told not to sign (dkimSign: false), though the workspace has the key.
        String notSigning = submit("via-dkim", message("news@dkim.test", "reader@unsigned.test", "Provider unsigned"));
        // A workspace without any key.
        String noKeys = submit("acme", message("billing@acme.test", "alice@customer.test", "Acme unsigned"));
        for (String id : List.of(otherDomain, notSigning, noKeys)) {
            awaitStatus(id, "SENT");
        }
        assertThat(row(notSigning).get("provider_id")).isEqualTo("dkim-unsigned");
        for (String id : List.of(otherDomain, notSigning)) {
            byte[] received = receivedBytes(id);
            assertThat(field(received, "DKIM-Signature")).isNull();
            assertThat(wire(received)).isEqualTo(wire((byte[]) row(id).get("raw_mime")));
        }
        GreenMail acme = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(acme, noKeys).size() == 1);
        assertThat(Upstreams.received(acme, noKeys).get(0).getHeader("DKIM-Signature")).isNull();
    }

    @Test
    void theRecordIsShownToTheWorkspaceAndToAdminsOnly() {
        HttpResponse<String> own = get(key("via-dkim"), "/api/v1/workspaces/via-dkim/dkim");
        assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
        Map<String, Object> view = read(own.body());
        assertThat(view).containsEntry("workspace", "via-dkim");
        List<?> records = (List<?>) view.get("records");
        assertThat(records).hasSize(1);
        @SuppressWarnings("unchecked")
        Map<String, Object> record = (Map<String, Object>) records.get(0);
        assertThat(record).containsEntry("domain", "dkim.test").containsEntry("selector", "relay2026")
                .containsEntry("name", RECORD_NAME).containsEntry("type", "TXT");
        assertThat((String) record.get("value")).matches("v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*");
        assertThat(own.body()).doesNotContainIgnoringCase("private");

        HttpResponse<String> admin = get("admin-key", "/api/v1/workspaces/via-dkim/dkim");
        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.body()).isEqualTo(own.body());

        // A workspace without keys signs nothing: an empty list.
        HttpResponse<String> acme = get("admin-key", "/api/v1/workspaces/acme/dkim");
        assertThat(acme.statusCode()).isEqualTo(200);
        assertThat(read(acme.body())).containsEntry("records", List.of());

        HttpResponse<String> other = get(key("acme"), "/api/v1/workspaces/via-dkim/dkim");
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(read(other.body())).containsEntry("error", "forbidden");

        assertThat(get("admin-key", "/api/v1/workspaces/nobody/dkim").statusCode()).isEqualTo(404);
        assertThat(get("no-such-key", "/api/v1/workspaces/via-dkim/dkim").statusCode()).isEqualTo(401);
        HttpResponse<String> anonymous = send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/api/v1/workspaces/via-dkim/dkim")).GET().build());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    /** The TXT value the API publishes for via-dkim's key. */
    private String publishedRecord() {
        HttpResponse<String> response = get(key("via-dkim"), "/api/v1/workspaces/via-dkim/dkim");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        @SuppressWarnings("unchecked")
        Map<String, Object> record = ((List<Map<String, Object>>) read(response.body()).get("records")).get(0);
        assertThat(record).containsEntry("name", RECORD_NAME);
        return (String) record.get("value");
    }

    /**
     * The message as GreenMail received it, from the relay's first header on: GreenMail puts
     * Return-Path and Received in front of what it was sent, and those are cut off here.
     */
    private byte[] receivedBytes(String id) throws Exception {
        GreenMail upstream = Upstreams.greenMail("spare");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, id).size() == 1);
        MimeMessage message = Upstreams.received(upstream, id).get(0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeTo(out);
        byte[] all = out.toByteArray();
        byte[] stored = (byte[]) row(id).get("raw_mime");
        int start = indexOf(all, "DKIM-Signature:".getBytes(StandardCharsets.US_ASCII), 0);
        if (start < 0 || start > bodyStart(all)) {
            // Unsigned: the relay's bytes start with the stored message's first header line.
            start = indexOf(all, Arrays.copyOf(stored, indexOf(stored, "\r\n".getBytes(StandardCharsets.US_ASCII), 0)), 0);
        }
        assertThat(start).as("the relay's first header in what GreenMail received").isGreaterThanOrEqualTo(0);
        return Arrays.copyOfRange(all, start, all.length);
    }

    /** The message without a leading DKIM-Signature field (itself, when it has none). */
    private static byte[] withoutSignature(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("DKIM-Signature:")) {
            return message;
        }
        int end = 0;
        do {
            end = text.indexOf("\r\n", end) + 2;
        } while (text.charAt(end) == ' ' || text.charAt(end) == '\t');
        return Arrays.copyOfRange(message, end, message.length);
    }

    /** A header field's value, unfolded, or null. */
    private static String field(byte[] message, String name) {
        String header = new String(message, 0, bodyStart(message), StandardCharsets.ISO_8859_1).replaceAll("\r\n[ \t]", " ");
        for (String line : header.split("\r\n")) {
            if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return line.substring(name.length() + 1).trim();
            }
        }
        return null;
    }

    private static String tag(String signature, String tag) {
        for (String part : signature.split(";")) {
            String[] pair = part.trim().split("=", 2);
            if (pair[0].trim().equals(tag)) {
                return pair[1].replaceAll("\\s", "");
            }
        }
        throw new AssertionError("no " + tag + "= in " + signature);
    }

    private static int bodyStart(byte[] message) {
        int blank = indexOf(message, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
        return blank < 0 ? message.length : blank + 4;
    }

    private static int indexOf(byte[] data, byte[] part, int from) {
        outer:
        for (int i = Math.max(0, from); i <= data.length - part.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (data[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * A message as SMTP carries it: every line ended by CRLF, the last one too (Jakarta Mail
     * writes a bare LF as CRLF and ends the data with the last line's CRLF, RFC 5321 4.1.1.4);
     * GreenMail hands a message back without that last CRLF, and REST bodies are stored with
     * the line ends their text had.
     */
    private static byte[] wire(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 64);
        for (int i = 0; i < message.length; i++) {
            if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) {
                out.write('\r');
            }
            out.write(message[i]);
        }
        byte[] lines = out.toByteArray();
        boolean ended = lines.length >= 2 && lines[lines.length - 2] == '\r' && lines[lines.length - 1] == '\n';
        if (!ended) {
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** dkimpy's verdict on the message as it crossed the wire, given the published record as the only DNS answer. */
    private static String verify(byte[] message, String record) throws Exception {
        Result result = run(List.of(python, VERIFIER.toString(), RECORD_NAME, record), wire(message));
        assertThat(result.exit()).as(result.output()).isIn(0, 1);
        return result.output().strip();
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> command, byte[] input) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = process.getInputStream()) {
                return in.readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        try (var stdin = process.getOutputStream()) {
            stdin.write(input);
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command.get(0) + " did not finish in 30 s");
            }
            return new Result(process.exitValue(), new String(output.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
