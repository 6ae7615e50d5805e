package com.mailrelay.dkim;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.RelayHeaders;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import org.apache.camel.Exchange;
import org.apache.james.jdkim.DKIMCommon;
import org.apache.james.jdkim.DKIMSigner;
import org.apache.james.jdkim.api.BodyHasher;
import org.apache.james.jdkim.impl.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * DKIM signing of the MIME a provider sends (exchange property relayOutgoingMime), per workspace
 * domain. Called by every provider template after its header rules (so that the signature covers
 * the headers that leave), with the template's {@code dkimSign} parameter.
 *
 * <p>The signing domain is the domain of the From header — the author's domain, the one DMARC
 * checks the signature's d= against — or its closest parent domain the workspace has a key for
 * ({@link DkimKeys#forDomain}). The envelope sender's domain is not used: a signature for it
 * would not align with From, and so would not help the message pass DMARC. Mail whose From has
 * no key in its workspace (or that has no single From) leaves unsigned.
 *
 * <p>The signature is Apache James jDKIM's: rsa-sha256, relaxed/relaxed, the body hash over the
 * whole body (no l=), a timestamp (t=). One DKIM-Signature field is put in front of the message;
 * every byte after it is the MIME as it was. A message the library cannot sign (it cannot parse
 * it) is sent unsigned with an error log and the {@code relay.dkim.signatures{outcome=failed}}
 * count: the failure would be the same at every attempt, and an unsigned message may still be
 * delivered where one held back never is.
 */
@Component("dkimSigning")
public class DkimSigning {

    private static final Logger log = LoggerFactory.getLogger(DkimSigning.class);

    /**
     * Signed when present, each occurrence: RFC 6376 5.4.1's recommended set, the MIME headers (a
     * changed Content-Type could change what the body shows), and RFC 8058's one-click pair, which
     * it requires signed.
     */
    static final List<String> SIGNED = List.of("from", "sender", "reply-to", "subject", "date", "message-id",
            "to", "cc", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding",
            "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc",
            "list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post",
            "list-owner", "list-archive", "feedback-id");

    /**
     * Signed once more than they occur (RFC 6376 8.15): the extra entry stands for "no further one",
     * so a second From, Subject or unsubscribe header added on the way breaks the signature
     * instead of being shown as the author's.
     */
    static final Set<String> OVERSIGNED = Set.of("from", "reply-to", "subject", "date", "to", "cc",
            "list-unsubscribe", "list-unsubscribe-post");

    private final DkimKeys keys;
    private final MeterRegistry meters;

    public DkimSigning(DkimKeys keys, MeterRegistry meters) {
        this.keys = keys;
        this.meters = meters;
    }

    /** Signs relayOutgoingMime when {@code sign} is true and the workspace has a key for the sender's domain. */
    public void sign(Exchange exchange, boolean sign) {
        String workspace = exchange.getMessage().getHeader(RelayHeaders.WORKSPACE, String.class);
        byte[] mime = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        if (!sign || mime == null || keys.of(workspace).isEmpty()) {
            return;
        }
        Object messageId = exchange.getMessage().getHeader(RelayHeaders.MESSAGE_ID);
        byte[] signed = signed(workspace, messageId, mime);
        if (signed != null) {
            exchange.setProperty(RelayHeaders.OUTGOING_MIME, signed);
        }
    }

    /** The MIME with its DKIM-Signature in front, or null when it leaves unsigned. */
    byte[] signed(String workspace, Object messageId, byte[] mime) {
        Message parsed;
        try {
            parsed = new Message(new ByteArrayInputStream(mime));
        } catch (Exception e) {
            return failed(workspace, messageId, "?", e);
        }
        try {
            Optional<String> author = authorDomain(parsed.getFields("From"));
            if (author.isEmpty()) {
                log.info("message {} of workspace {} is sent unsigned: it has no single From address with a domain",
                        messageId, workspace);
                count(workspace, "no_from");
                return null;
            }
            Optional<DkimKeys.SigningKey> key = keys.forDomain(workspace, author.get());
            if (key.isEmpty()) {
                log.debug("message {} of workspace {} is sent unsigned: no DKIM key for {}", messageId, workspace,
                        author.get());
                count(workspace, "no_key");
                return null;
            }
            try {
                String field = signature(parsed, key.get());
                count(workspace, "signed");
                return prepend(fold(field), mime);
            } catch (Exception e) {
                return failed(workspace, messageId, key.get().domain(), e);
            }
        } finally {
            parsed.dispose();
        }
    }

    /** The DKIM-Signature field (unfolded, without its line end) jDKIM computes for this message. */
    private static String signature(Message parsed, DkimKeys.SigningKey key) throws Exception {
        String template = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + key.domain() + "; s=" + key.selector()
                + "; t=; h=" + String.join(":", signedHeaders(parsed.getFields())) + "; bh=; b=;";
        DKIMSigner signer = new DKIMSigner(template, key.privateKey());
        BodyHasher hasher = signer.newBodyHasher(signer.newSignatureRecordTemplate(template));
        DKIMCommon.streamCopy(parsed.getBodyInputStream(), hasher.getOutputStream());
        return signer.sign(parsed, hasher);
    }

    /** The h= list: each signed header as often as it occurs, the oversigned ones once more. */
    static List<String> signedHeaders(List<String> fields) {
        Map<String, Integer> present = new LinkedHashMap<>();
        for (String field : fields) {
            int colon = field.indexOf(':');
            if (colon > 0) {
                present.merge(field.substring(0, colon).trim().toLowerCase(Locale.ROOT), 1, Integer::sum);
            }
        }
        List<String> names = new ArrayList<>();
        for (String name : SIGNED) {
            int count = present.getOrDefault(name, 0);
            if (count > 0) {
                int times = OVERSIGNED.contains(name) ? count + 1 : count;
                for (int i = 0; i < times; i++) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** The domain of the one From field's first mailbox, as domains are compared (lower case, IDN as punycode). */
    static Optional<String> authorDomain(List<String> fromFields) {
        if (fromFields == null || fromFields.size() != 1) {
            return Optional.empty();
        }
        String field = fromFields.get(0);
        String value = field.substring(field.indexOf(':') + 1).replaceAll("\r?\n([ \t])", "$1");
        try {
            InternetAddress[] addresses = InternetAddress.parseHeader(value, false);
            if (addresses.length == 0) {
                return Optional.empty();
            }
            String address = addresses[0].getAddress();
            int at = address == null ? -1 : address.lastIndexOf('@');
            return at < 0 ? Optional.empty() : Optional.of(Addresses.canonicalDomain(address.substring(at + 1)));
        } catch (AddressException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * One tag a line, breaking only where the library's field has a space after a semicolon: relaxed
     * header canonicalisation (RFC 6376 3.4.2) turns each fold back into that one space, so the
     * folded field hashes as the one signed, and no line comes near the 998-octet limit.
     */
    static String fold(String field) {
        return field.replace("; ", ";\r\n\t");
    }

    /** The field in front of the MIME, ended as the MIME's own lines are (CRLF, or LF for a bare-LF message). */
    private static byte[] prepend(String field, byte[] mime) {
        int newline = 0;
        while (newline < mime.length && mime[newline] != '\n') {
            newline++;
        }
        boolean bareLf = newline < mime.length && (newline == 0 || mime[newline - 1] != '\r');
        String text = bareLf ? field.replace("\r\n", "\n") + "\n" : field + "\r\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(mime.length + text.length());
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(mime);
        return out.toByteArray();
    }

    private byte[] failed(String workspace, Object messageId, String domain, Exception e) {
        // The library's message names what it could not parse, never the key.
        log.error("DKIM signing of message {} (workspace {}, d={}) failed, so it is sent unsigned: {}: {}",
                messageId, workspace, domain, e.getClass().getSimpleName(), e.getMessage());
        count(workspace, "failed");
        return null;
    }

    private void count(String workspace, String outcome) {
        meters.counter("relay.dkim.signatures", "workspace", workspace, "outcome", outcome).increment();
    }
}
