package com.mailrelay.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * relay.queue=kafka with no broker listening: an accept that the broker cannot acknowledge within
 * relay.queue-kafka.send-timeout is answered 503 (REST) / 451 (SMTP), and nothing is recorded.
 */
@TestPropertySource(properties = {"relay.queue=kafka", "relay.queue-kafka.send-timeout=2s",
        "relay.worker.enabled=false"})
class KafkaQueueOutageTest extends RelayTestSupport {

    @DynamicPropertySource
    static void brokers(DynamicPropertyRegistry registry) {
        registry.add("relay.queue-kafka.brokers", () -> "127.0.0.1:" + closedPort());
    }

    @Test
    void restAcceptIs503WhenTheBrokerIsDown() {
        HttpResponse<String> response = post(key("acme"), message("app@acme.test", "down@customer.test", "no broker"),
                Map.of());
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(read(response.body())).containsEntry("error", "unavailable");
        assertThat(response.headers().firstValue("Retry-After")).isPresent();
        assertThat(countMessages("acme")).isZero();
    }

    @Test
    void smtpAcceptIs451WhenTheBrokerIsDown() {
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            client.send("MAIL FROM:<app@acme.test>");
            client.send("RCPT TO:<down@customer.test>");
            assertThat(client.send("DATA")).startsWith("354");
            client.write("From: app@acme.test\r\nSubject: no broker\r\n\r\nretry me\r\n.\r\n");
            assertThat(client.readReply()).startsWith("451 4.3.0");
        }
        assertThat(countMessages("acme")).isZero();
    }

    @Test
    void readinessIsDownWhileTheQueuesBrokerIsDown() {
        HttpResponse<String> readiness = get("admin-key", "/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(503);
        Map<String, Object> body = read(readiness.body());
        assertThat(body).containsEntry("status", "DOWN");
        assertThat(String.valueOf(((Map<?, ?>) body.get("components")).get("kafka"))).startsWith("{status=DOWN")
                .contains("queue=");
    }

    /** A loopback port nothing listens on. */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
