package com.mailrelay.provider.sendgrid;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.TransientDeliveryException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** SendGrid's documented error answers, each classified (the end-to-end outcomes are in SendGridProviderTest). */
class SendGridRepliesTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private final SendGridReplies replies = new SendGridReplies(Clock.fixed(NOW, ZoneOffset.UTC));

    private DeliveryException failure(int status, String body, String retryAfter, String reset) {
        return replies.failure("sg", status, body, retryAfter, reset,
                Map.of("personalizations.0.to.0.email", "a@example.org", "personalizations.0.bcc.0.email",
                        "b@example.org"));
    }

    @Test
    void aBadRequestIsPermanentAndNamesTheRecipientsItsErrorsName() {
        DeliveryException failure = failure(400, "{\"errors\":[{\"message\":\"Does not contain a valid address.\","
                + "\"field\":\"personalizations.0.bcc.0.email\",\"help\":null},{\"message\":\"The subject is required.\","
                + "\"field\":\"subject\",\"help\":null}]}", null, null);
        assertThat(failure).isInstanceOf(PermanentDeliveryException.class);
        assertThat(((PermanentDeliveryException) failure).refusedRecipients()).containsExactly("b@example.org");
        assertThat(failure.reply()).isEqualTo("HTTP 400: personalizations.0.bcc.0.email: Does not contain a valid "
                + "address.; subject: The subject is required.");
        // An error on the message, not a recipient: no one is suppressed.
        assertThat(((PermanentDeliveryException) failure(400, "{\"errors\":[{\"message\":\"bad\",\"field\":\"from\"}]}",
                null, null)).refusedRecipients()).isEmpty();
    }

    @Test
    void refusedKeysAndAccountsAreConfigurationFaults() {
        assertThat(failure(401, "{\"errors\":[{\"field\":null,\"message\":\"The provided authorization grant is invalid, "
                + "expired, or revoked\"}]}", null, null)).isInstanceOf(ProviderConfigurationException.class)
                .hasMessageContaining("revoked");
        assertThat(failure(403, "{\"errors\":[{\"field\":\"from\",\"message\":\"The from address does not match a "
                + "verified Sender Identity.\"}]}", null, null)).isInstanceOf(ProviderConfigurationException.class)
                .hasMessageContaining("from: The from address");
        // 200 is sandbox mode: nothing queued.
        assertThat(failure(200, "", null, null)).isInstanceOf(ProviderConfigurationException.class)
                .hasMessageContaining("not queued");
    }

    @Test
    void tooLargeIsPermanentEvenAsAProxysHtmlPage() {
        DeliveryException failure = failure(413, "<html><head><title>413 Request Entity Too Large</title></head></html>",
                null, null);
        assertThat(failure).isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("413 Request Entity");
        assertThat(failure(413, "", null, null).reply()).contains("too large");
    }

    @Test
    void rateLimitsWaitForRetryAfterOrElseTheResetTime() {
        assertThat(failure(429, "{\"errors\":[{\"field\":null,\"message\":\"too many requests\"}]}", "120", null))
                .isInstanceOf(TransientDeliveryException.class).isNotInstanceOf(ProviderConfigurationException.class)
                .extracting(DeliveryException::retryAfter).isEqualTo(Duration.ofSeconds(120));
        assertThat(failure(429, "", null, String.valueOf(NOW.plusSeconds(42).getEpochSecond())).retryAfter())
                .isEqualTo(Duration.ofSeconds(42));
        assertThat(failure(429, "", null, null).retryAfter()).isNull();
    }

    @Test
    void serverErrorsAreTransient() {
        assertThat(failure(500, "{\"errors\":[{\"field\":null,\"message\":\"internal error\"}]}", null, null))
                .isInstanceOf(TransientDeliveryException.class).hasMessage("HTTP 500: internal error");
        assertThat(failure(503, "", "30", null).retryAfter()).isEqualTo(Duration.ofSeconds(30));
    }
}
