package com.mailrelay.providers;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.ValidationException;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.ProviderFailures;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * {@code POST /api/v1/providers/{id}/test}: reads the request, builds the one small test message
 * (when a recipient is given) the way a claimed message reaches a provider route, and turns what
 * the probe and the send did into the answer. The route (providers-test) decides the steps and
 * sends the message to {@code direct:provider-<id>} — that provider only, not a chain.
 *
 * <p>The test message is not accepted into the queue: a queued message is delivered by the
 * workers through the workspace's dispatch chain (not one provider), later (so no reply could be
 * answered), and it belongs to a workspace, which an admin's test has none of. It is accounted for
 * instead in the log (INFO, with its id), in relay_provider_tests_total{provider, outcome} and in
 * the provider's last success or last error.
 */
@Component("providerTests")
public class ProviderTests {

    /** The exchange properties the route reads. */
    public static final String PROVIDER = "relayTestProvider";
    public static final String TO = "relayTestTo";
    public static final String PROBE = "relayTestProbe";
    public static final String SEND = "relayTestSend";
    /** The answer's HTTP status, set by {@link #answer}. */
    public static final String STATUS = "relayTestStatus";
    /** The workspace a test message is counted under (no workspace has this name: it is not a valid id). */
    public static final String WORKSPACE = "_provider-test";

    private static final Logger log = LoggerFactory.getLogger(ProviderTests.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper READER =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final ProviderInstances instances;
    private final io.micrometer.core.instrument.MeterRegistry meters;
    private final Clock clock;

    public ProviderTests(ProviderInstances instances, io.micrometer.core.instrument.MeterRegistry meters,
                         Clock clock) {
        this.instances = instances;
        this.meters = meters;
        this.clock = clock;
    }

    /** The provider (404 unless it runs) and the optional {@code {"to": "...", "from": "..."}} body (400 if invalid). */
    public void request(Exchange exchange) {
        String id = exchange.getMessage().getHeader("id", String.class);
        instances.find(id).orElseThrow(() -> new ProviderNotFoundException(id));
        exchange.setProperty(PROVIDER, id);
        String body = exchange.getMessage().getBody(String.class);
        if (body == null || body.isBlank()) {
            return;
        }
        Map<?, ?> fields;
        try {
            fields = READER.readValue(body, Map.class);
        } catch (java.io.IOException | RuntimeException e) {
            throw invalid("body", "the body is a JSON object: {\"to\": \"someone@example.org\"} or {}");
        }
        Object to = fields.get("to");
        Object from = fields.get("from");
        if (to != null) {
            exchange.setProperty(TO, address("to", to));
            exchange.setProperty(TO + "From", from == null ? "postmaster@localhost" : address("from", from));
        } else if (from != null) {
            throw invalid("to", "a test message needs a recipient (to)");
        }
    }

    private static String address(String field, Object value) {
        if (!(value instanceof String text)) {
            throw invalid(field, "must be one email address");
        }
        Addresses.pathProblem(text.trim()).ifPresent(problem -> {
            throw invalid(field, problem);
        });
        return Addresses.canonical(text.trim());
    }

    private static ValidationException invalid(String field, String message) {
        return new ValidationException(List.of(new ValidationException.FieldError(field, message)));
    }

    /** Puts the test message on the exchange as a provider route reads a claimed one. */
    public void prepare(Exchange exchange) {
        String provider = exchange.getProperty(PROVIDER, String.class);
        String to = exchange.getProperty(TO, String.class);
        String from = exchange.getProperty(TO + "From", String.class);
        UUID id = UUID.randomUUID();
        String mime = "Date: " + DATE.format(clock.instant()) + "\r\n"
                + "From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: Mail Relay test of provider " + provider + "\r\n"
                + "Message-ID: <" + id + "@mail-relay.test-message>\r\n"
                + "X-Mail-Relay-Test: " + provider + "\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n"
                + "A test message sent through provider " + provider + " on an administrator's request.\r\n";
        ClaimedMessage message = new ClaimedMessage(id, WORKSPACE, "transactional", from, List.of(to),
                mime.getBytes(StandardCharsets.US_ASCII), 1, clock.instant(), null);
        exchange.setProperty(RelayHeaders.MESSAGE, message);
        var headers = exchange.getMessage();
        headers.removeHeaders("*");
        headers.setHeader(RelayHeaders.MESSAGE_ID, id.toString());
        headers.setHeader(RelayHeaders.WORKSPACE, WORKSPACE);
        headers.setHeader(RelayHeaders.EMAIL_TYPE, "transactional");
        headers.setHeader(RelayHeaders.ATTEMPT, 1);
        headers.setHeader(RelayHeaders.RECIPIENT_DOMAINS, to.substring(to.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT));
        headers.setBody(message.rawMime());
    }

    /** The provider took the message. */
    public void sent(Exchange exchange) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        String provider = exchange.getProperty(PROVIDER, String.class);
        Map<String, Object> send = new LinkedHashMap<>();
        send.put("outcome", "sent");
        send.put("message_id", message.id().toString());
        send.put("reply", exchange.getMessage().getHeader(RelayHeaders.PROVIDER_REPLY, String.class));
        send.put("provider_message_id", exchange.getMessage().getHeader(RelayHeaders.PROVIDER_MESSAGE_ID, String.class));
        exchange.setProperty(SEND, send);
        meters.counter("relay.provider.tests", "provider", provider, "outcome", "sent").increment();
        log.info("test message {} sent through provider {} to {}: {}", message.id(), provider, message.recipients(),
                send.get("reply"));
    }

    /** The provider refused or failed: the failure classified as a delivery's would be. */
    public void failed(Exchange exchange) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        String provider = exchange.getProperty(PROVIDER, String.class);
        DeliveryException failure = ProviderFailures.classify(provider,
                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        Map<String, Object> send = new LinkedHashMap<>();
        send.put("outcome", "failed");
        send.put("message_id", message.id().toString());
        send.put("failure", ProviderProbes.kind(failure));
        send.put("code", failure.code() == 0 ? null : failure.code());
        send.put("reply", failure.reply());
        exchange.setProperty(SEND, send);
        meters.counter("relay.provider.tests", "provider", provider, "outcome", "failed").increment();
        log.info("test message {} through provider {} to {} failed, {}: {}", message.id(), provider,
                message.recipients(), send.get("failure"), failure.reply());
    }

    /**
     * The answer: 200 when the probe did not fail and the message (if any) was sent; 502 when the
     * provider failed either (the request was fine, the upstream was not).
     */
    public void answer(Exchange exchange) {
        ProbeResult probe = exchange.getProperty(PROBE, ProbeResult.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> send = exchange.getProperty(SEND, Map.class);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("provider", exchange.getProperty(PROVIDER, String.class));
        body.put("probe", probe);
        if (send != null) {
            body.put("send", send);
        }
        exchange.getMessage().setBody(body);
        boolean failed = probe.failed() || send != null && "failed".equals(send.get("outcome"));
        exchange.setProperty(STATUS, failed ? 502 : 200);
    }
}
