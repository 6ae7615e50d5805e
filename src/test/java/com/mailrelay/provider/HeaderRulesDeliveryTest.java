package com.mailrelay.provider;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Header rules end to end: workspace via-headers delivers through provider "headers", whose rules
 * set a List-Unsubscribe of its own, remove X-Mailer and replace X-Campaign. The copy delivered
 * has them applied; the stored message is unchanged and the body arrives byte for byte.
 */
class HeaderRulesDeliveryTest extends RelayTestSupport {

    @Test
    void theDeliveredCopyHasTheRulesAppliedAndTheStoredMessageIsUnchanged() throws Exception {
        Map<String, Object> message = new LinkedHashMap<>(message("app@headers.test",
                "reader-" + System.nanoTime() + "@customer.test", "header rules"));
        message.put("headers", Map.of("X-Mailer", "App Mailer 1.0", "X-Campaign", "spring-sale",
                "List-Unsubscribe", "<mailto:app-unsubscribe@headers.test>"));
        String id = submit("via-headers", message);
        awaitStatus(id, "SENT");

        List<MimeMessage> copies = Upstreams.received(Upstreams.greenMail("spare"), id);
        assertThat(copies).hasSize(1);
        MimeMessage delivered = copies.get(0);
        assertThat(delivered.getHeader("List-Unsubscribe")).containsExactly("<mailto:unsubscribe@provider.test>");
        assertThat(delivered.getHeader("X-Mailer")).isNull();
        assertThat(delivered.getHeader("X-Campaign")).containsExactly("provider-campaign");

        byte[] stored = (byte[]) row(id).get("raw_mime");
        String storedText = new String(stored, StandardCharsets.ISO_8859_1);
        assertThat(storedText).contains("X-Mailer: App Mailer 1.0", "X-Campaign: spring-sale",
                "List-Unsubscribe: <mailto:app-unsubscribe@headers.test>")
                .doesNotContain("unsubscribe@provider.test", "provider-campaign");

        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        delivered.writeTo(raw);
        assertThat(body(raw.toByteArray())).isEqualTo(body(stored));

        // Counted for the provider, with its reply as the last success.
        Map<String, Object> view = read(get(ProvidersApiTest.ADMIN, "/api/v1/providers/headers").body());
        assertThat(view.get("deliveries").toString()).doesNotContain("sent=0");
        assertThat(view.get("last_success").toString()).contains("250 accepted by 127.0.0.1:");
        assertThat(((Map<?, ?>) view.get("parameters")).get("headerRules").toString())
                .contains("remove X-Mailer");
    }

    private static byte[] body(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return Arrays.copyOfRange(message, end + 4, message.length);
    }
}
