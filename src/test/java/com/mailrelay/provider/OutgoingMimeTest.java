package com.mailrelay.provider;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The header rules of a provider applied to the stored bytes: the header block rewritten, the rest as it was. */
class OutgoingMimeTest {

    private static final String BODY = "Line one\r\n"
            + "From: not a header, the body\r\n"
            + "\r\n"
            + "=E9t=E9 \u00e9\u00e0 bytes kept as they are\r\n";

    private static final String CRLF_MESSAGE = "Received: from a\r\n\tby b; Tue, 1 Dec 2026 10:00:00 +0000\r\n"
            + "From: App <app@example.test>\r\n"
            + "To: someone@example.org\r\n"
            + "X-Mailer: App Mailer 1.0\r\n"
            + "List-Unsubscribe: <mailto:app@example.test>,\r\n"
            + " <https://example.test/u/1>\r\n"
            + "x-mailer: second copy\r\n"
            + "Subject: Hello\r\n"
            + "\r\n"
            + BODY;

    private final OutgoingMime outgoing = new OutgoingMime();

    private byte[] apply(String rules, byte[] mime) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(RelayHeaders.MESSAGE, new ClaimedMessage(UUID.randomUUID(), "w", "transactional",
                "app@example.test", List.of("someone@example.org"), mime, 1, Instant.now(), null));
        exchange.setProperty(RelayHeaders.HEADER_RULES, rules);
        exchange.getMessage().setHeader(RelayHeaders.PROVIDER_ID, "p");
        outgoing.prepare(exchange);
        return exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static String header(String message) {
        return message.substring(0, message.indexOf("\r\n\r\n") + 2);
    }

    private static byte[] bodyOf(byte[] message, String separator) {
        String text = text(message);
        return Arrays.copyOfRange(message, text.indexOf(separator) + separator.length(), message.length);
    }

    @Test
    void withoutRulesTheStoredBytesAreSentAsTheyAre() {
        byte[] stored = bytes(CRLF_MESSAGE);
        assertThat(apply("", stored)).isSameAs(stored);
        assertThat(apply(null, stored)).isSameAs(stored);
    }

    @Test
    void setReplacesEveryCopyOfAFoldedHeaderWhateverTheCaseOfItsName() {
        byte[] out = apply("set list-unsubscribe: <mailto:unsubscribe@provider.test>", bytes(CRLF_MESSAGE));
        String header = header(text(out));
        assertThat(header).startsWith("list-unsubscribe: <mailto:unsubscribe@provider.test>\r\n");
        assertThat(header).doesNotContain("mailto:app@example.test", "https://example.test/u/1");
        // The folded Received header is kept whole, continuation line included.
        assertThat(header).contains("Received: from a\r\n\tby b; Tue, 1 Dec 2026 10:00:00 +0000\r\n");
        assertThat(bodyOf(out, "\r\n\r\n")).isEqualTo(bytes(BODY));
    }

    @Test
    void removeTakesEveryCopyAndReplaceOnlyActsOnAHeaderThatIsThere() {
        byte[] out = apply("REMOVE X-MAILER\nreplace Subject: Provider subject\nreplace X-Absent: nothing",
                bytes(CRLF_MESSAGE));
        String header = header(text(out));
        assertThat(header.toLowerCase()).doesNotContain("x-mailer");
        assertThat(header).contains("Subject: Provider subject\r\n").doesNotContain("Subject: Hello", "X-Absent");
        assertThat(header).contains("From: App <app@example.test>\r\nTo: someone@example.org\r\n");
        assertThat(bodyOf(out, "\r\n\r\n")).isEqualTo(bytes(BODY));
    }

    @Test
    void theBodyIsByteIdenticalEvenWithEightBitBytes() {
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        byte[] head = bytes("From: a@example.test\r\nX-Mailer: x\r\n\r\n");
        byte[] stored = new byte[head.length + body.length];
        System.arraycopy(head, 0, stored, 0, head.length);
        System.arraycopy(body, 0, stored, head.length, body.length);
        byte[] out = apply("remove X-Mailer;;set X-Provider: one", stored);
        assertThat(text(out)).startsWith("X-Provider: one\r\nFrom: a@example.test\r\n\r\n");
        assertThat(Arrays.copyOfRange(out, out.length - body.length, out.length)).isEqualTo(body);
        assertThat(out.length).isEqualTo(stored.length - "X-Mailer: x\r\n".length() + "X-Provider: one\r\n".length());
    }

    @Test
    void aMessageWithLfLineEndsGetsLfInTheHeadersAdded() {
        String lf = CRLF_MESSAGE.replace("\r\n", "\n");
        byte[] out = apply("set X-Provider: lf\nremove X-Mailer", bytes(lf));
        String text = text(out);
        assertThat(text).doesNotContain("\r");
        assertThat(text).startsWith("X-Provider: lf\nReceived: from a\n\tby b;");
        assertThat(text.toLowerCase()).doesNotContain("x-mailer");
        assertThat(bodyOf(out, "\n\n")).isEqualTo(bytes(BODY.replace("\r\n", "\n")));
    }

    @Test
    void theStoredMessageIsNeverChanged() {
        byte[] stored = bytes(CRLF_MESSAGE);
        byte[] copy = stored.clone();
        apply("set Subject: changed\nremove From", stored);
        assertThat(stored).isEqualTo(copy);
    }

    @Test
    void aRuleThatCannotBeReadIsAConfigurationFaultOfTheProvider() {
        for (String bad : List.of("rename X-Mailer: Y", "set X-Mailer", "set Bad Name: x", "remove ",
                "set X-Value: caf\u00e9", "set : value")) {
            assertThatThrownBy(() -> apply(bad, bytes(CRLF_MESSAGE))).as(bad)
                    .isInstanceOf(ProviderConfigurationException.class)
                    .hasMessageContaining("header rule")
                    .hasMessageContaining("provider p");
        }
    }
}
