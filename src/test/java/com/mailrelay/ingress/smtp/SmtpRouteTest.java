package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.StartupOrder;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * SMTP ingress is a route: {@code smtp-submit}, listed by {@code GET /api/v1/routes}, takes every
 * message at the end of DATA — stored or refused — and its lifecycle is the SMTP server's. What a
 * refusal is answered comes from the {@code smtp-replies} configuration; each case is asserted
 * where its feature is tested: 451 4.7.1 in RateLimitTest, 554 5.6.0 in SmtpTrackingTest and
 * here, 451 4.3.0 in SmtpResilienceTest.
 */
class SmtpRouteTest extends RelayTestSupport {

    @Autowired
    CamelContext camel;

    @Test
    void theRouteListingShowsSmtpSubmitAndEveryMessageGoesThroughIt() {
        Map<?, ?> before = smtpSubmit();
        assertThat(before.get("source")).isEqualTo("java");
        assertThat(before.get("state")).isEqualTo("Started");
        long exchanges = ((Number) before.get("exchanges_total")).longValue();

        String subject = "smtp-route-" + System.nanoTime();
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            assertThat(client.submit("app@acme.test", "route@customer.test",
                    "From: app@acme.test\r\nSubject: " + subject + "\r\n\r\nhello\r\n"))
                    .startsWith("250 2.0.0 Ok: queued as ");
        }
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            // A refusal of the accept path: answered by the route's configuration with the refusal's own reply.
            assertThat(client.login("globex", "globex-password")).startsWith("235");
            assertThat(client.submit("news@globex.test", "route@customer.test",
                    "From: news@globex.test\r\nSubject: " + subject + "-unreadable\r\nMIME-Version: 1.0\r\n"
                            + "Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\nno parts at all\r\n"))
                    .startsWith("554 5.6.0 the message's MIME cannot be read to personalise it: ");
        }
        assertThat(jdbc.queryForObject("select count(*) from messages where subject like ?", Long.class,
                subject + "%")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(((Number) smtpSubmit().get("exchanges_total")).longValue()).isGreaterThanOrEqualTo(exchanges + 2));
    }

    /** The server opens when its route starts (after the route files) and closes, drained, when it stops. */
    @Test
    void theSmtpServerIsTheRoutesConsumer() throws Exception {
        assertThat(camel.getRoute("smtp-submit").getGroup()).isEqualTo(StartupOrder.AFTER_ROUTE_FILES);
        int open = smtp.port();
        camel.getRouteController().stopRoute("smtp-submit");
        try {
            assertThat(smtp.isRunning()).isFalse();
            assertThatThrownBy(() -> connect(open)).isInstanceOf(IOException.class);
        } finally {
            camel.getRouteController().startRoute("smtp-submit");
        }
        assertThat(camel.getRouteController().getRouteStatus("smtp-submit")).isEqualTo(ServiceStatus.Started);
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.greeting()).startsWith("220 ");
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            assertThat(client.submit("app@acme.test", "reopened@customer.test",
                    "From: app@acme.test\r\nSubject: reopened " + System.nanoTime() + "\r\n\r\nhello\r\n"))
                    .startsWith("250 2.0.0 Ok: queued as ");
        }
    }

    private Map<?, ?> smtpSubmit() {
        String body = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/routes"))
                .header("Authorization", "Bearer admin-key").GET().build()).body();
        List<?> routes = (List<?>) read(body).get("routes");
        return routes.stream().map(route -> (Map<?, ?>) route).filter(route -> "smtp-submit".equals(route.get("id")))
                .findFirst().orElseThrow(() -> new AssertionError("smtp-submit not listed: " + body));
    }

    private static void connect(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        }
    }
}
