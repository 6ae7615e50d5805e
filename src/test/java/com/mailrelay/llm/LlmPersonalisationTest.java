package com.mailrelay.llm;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The LLM personalisation step end to end: REST in, the chat-completions stub (WireMock on
 * loopback, under /llm of the HTTP API stub) asked per recipient, GreenMail out. Workspace
 * q-llm-on fills <<TRENDING_QUESTION>> (application-test.yml); q-llm-off has no llm settings.
 * Each test names a product of its own, which is in its prompts: its stubs and its requests are
 * told apart by it (the stub is shared and never reset).
 */
class LlmPersonalisationTest extends RelayTestSupport {

    private static final String PATH = "/llm/v1/chat/completions";
    private static final String ON = "q-llm-on";
    private static final String OFF = "q-llm-off";
    private static final String FALLBACK = "What is new this week?";

    @Autowired
    MeterRegistry meters;

    private final WireMockServer stub = Upstreams.providerApis();
    /** Whether this JVM's relay has made its first chat-completions call yet (see {@link #warmUp()}). */
    private static volatile boolean warm;
    private final GreenMail upstream = Upstreams.greenMail("default");

    @Test
    void placeholdersAreFilledPerRecipientAndCallsAndTokensCounted() throws Exception {
        String product = product();
        String ada = "ada-" + product + "@llm.test";
        String bob = "bob-" + product + "@llm.test";
        warmUp();
        putName(ada, "Ada");
        putName(bob, "Bob");
        // Ada's answer has markup, a bell and a line break: escaped in HTML, one clean line everywhere.
        answer(product, "Ada", "Is <b>dosage</b> & timing\u0007 safe?\nReally?", 11, 7);
        answer(product, "Bob", "What about side effects?", 13, 5);
        double ok = calls("ok");
        double promptTokens = tokens("prompt");
        double completionTokens = tokens("completion");

        Map<String, String> ids = submitCopies(ON, placeholderMessage(product, List.of(ada, bob)));

        MimeMessage adaCopy = awaitCopy(ids.get(ada));
        MimeMessage bobCopy = awaitCopy(ids.get(bob));
        assertThat(adaCopy.getSubject()).isEqualTo("Asked: Is <b>dosage</b> & timing safe? Really? " + product);
        assertThat(text(adaCopy, "text/plain")).contains("Question: Is <b>dosage</b> & timing safe? Really?")
                .contains("<<OTHER>> stays");
        assertThat(text(adaCopy, "text/html"))
                .contains("<p>Is &lt;b&gt;dosage&lt;/b&gt; &amp; timing safe? Really?</p>")
                .contains("<p>also Is &lt;b&gt;dosage&lt;/b&gt; &amp; timing safe? Really?</p>");
        assertThat(bobCopy.getSubject()).isEqualTo("Asked: What about side effects? " + product);
        assertThat(text(bobCopy, "text/plain")).contains("Question: What about side effects?");
        assertThat(text(bobCopy, "text/html")).contains("<p>What about side effects?</p>");

        // One call per recipient (their names differ), the prompt filled with each one's data.
        List<LoggedRequest> requests = requests(product);
        assertThat(requests).hasSize(2);
        for (LoggedRequest request : requests) {
            assertThat(request.getHeader("Authorization")).isEqualTo("Bearer test-llm-key");
            Map<String, Object> body = read(request.getBodyAsString());
            assertThat(body).containsEntry("model", "test-model-q").containsEntry("max_tokens", 200);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> messages = (List<Map<String, Object>>) body.get("messages");
            assertThat(messages).last().satisfies(m -> assertThat(m).containsEntry("role", "user"));
            assertThat((String) messages.get(messages.size() - 1).get("content"))
                    .matches("Suggest one question (Ada|Bob) might ask about " + product);
        }
        // The stored row has the filled subject (the first copy keeps the submission's id).
        assertThat((String) row(ids.get(ada)).get("subject")).startsWith("Asked: ").doesNotContain("<<");
        assertThat(calls("ok") - ok).isEqualTo(2.0);
        assertThat(tokens("prompt") - promptTokens).isEqualTo(24.0);
        assertThat(tokens("completion") - completionTokens).isEqualTo(12.0);
    }

    @Test
    void aStubThatTimesOutGivesTheFallbackAndTheMessageIsDeliveredOnTime() throws Exception {
        String product = product();
        String to = "slow-" + product + "@llm.test";
        Duration delay = Duration.ofSeconds(8);
        stub.stubFor(WireMock.post(urlEqualTo(PATH)).withRequestBody(containing(product))
                .willReturn(aResponse().withFixedDelay((int) delay.toMillis()).withStatus(200)
                        .withHeader("Content-Type", "application/json").withBody(completion("too late", 1, 1))));
        double timeouts = calls("timeout");

        long start = System.nanoTime();
        String id = submitCopies(ON, placeholderMessage(product, List.of(to))).get(to);
        Duration accepted = Duration.ofNanos(System.nanoTime() - start);
        // relay.llm.timeout is 2 s: the 202 came long before the stub would have answered.
        assertThat(accepted).isLessThan(delay.minusSeconds(3));

        MimeMessage copy = awaitCopy(id);
        Duration delivered = Duration.ofNanos(System.nanoTime() - start);
        assertThat(delivered).as("delivered before the model would have answered").isLessThan(delay);
        assertThat(copy.getSubject()).isEqualTo("Asked: " + FALLBACK + " " + product);
        assertThat(text(copy, "text/plain")).contains("Question: " + FALLBACK);
        assertThat(text(copy, "text/html")).contains("<p>" + FALLBACK + "</p>");
        awaitStatus(id, "SENT");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(calls("timeout") - timeouts).isEqualTo(1.0));
        assertThat(requests(product)).hasSize(1);
    }

    @Test
    void stubErrorsGiveTheFallback() throws Exception {
        String product = product();
        String eve = "eve-" + product + "@llm.test";
        String mallory = "mallory-" + product + "@llm.test";
        putName(eve, "Eve");
        putName(mallory, "Mallory");
        stub.stubFor(WireMock.post(urlEqualTo(PATH)).withRequestBody(containing(product)).withRequestBody(containing("Eve"))
                .willReturn(aResponse().withStatus(500).withBody("{\"error\":{\"message\":\"overloaded\"}}")));
        stub.stubFor(WireMock.post(urlEqualTo(PATH)).withRequestBody(containing(product)).withRequestBody(containing("Mallory"))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"choices\": [ {\"message\": garbage")));
        double errors = calls("error");

        Map<String, String> ids = submitCopies(ON, placeholderMessage(product, List.of(eve, mallory)));

        for (String to : List.of(eve, mallory)) {
            MimeMessage copy = awaitCopy(ids.get(to));
            assertThat(copy.getSubject()).isEqualTo("Asked: " + FALLBACK + " " + product);
            assertThat(text(copy, "text/plain")).contains("Question: " + FALLBACK);
        }
        assertThat(requests(product)).hasSize(2);
        assertThat(calls("error") - errors).isEqualTo(2.0);
    }

    @Test
    void theSamePromptIsAskedOnce() throws Exception {
        String product = product();
        // Neither has a name on record: both prompts are the same, within a message and across two.
        String first = "first-" + product + "@llm.test";
        String second = "second-" + product + "@llm.test";
        String third = "third-" + product + "@llm.test";
        warmUp();
        answer(product, "ask about", "Which dose is right?", 9, 4);
        double ok = calls("ok");
        double cached = calls("cached");

        Map<String, String> ids = submitCopies(ON, placeholderMessage(product, List.of(first, second)));
        for (String to : List.of(first, second)) {
            assertThat(awaitCopy(ids.get(to)).getSubject()).isEqualTo("Asked: Which dose is right? " + product);
        }
        String again = submitCopies(ON, placeholderMessage(product, List.of(third))).get(third);
        assertThat(awaitCopy(again).getSubject()).isEqualTo("Asked: Which dose is right? " + product);

        assertThat(requests(product)).hasSize(1);
        assertThat(calls("ok") - ok).isEqualTo(1.0);
        assertThat(calls("cached") - cached).isEqualTo(1.0);
    }

    @Test
    void offByDefaultThePlaceholderPassesUntouched() throws Exception {
        String product = product();
        String to = "off-" + product + "@llm.test";
        answer(product, "ask about", "never asked", 1, 1);

        String id = submitCopies(OFF, placeholderMessage(product, List.of(to))).get(to);

        MimeMessage copy = awaitCopy(id);
        assertThat(copy.getSubject()).isEqualTo("Asked: <<TRENDING_QUESTION>> " + product);
        assertThat(text(copy, "text/plain")).contains("Question: <<TRENDING_QUESTION>>");
        awaitStatus(id, "SENT");
        assertThat(requests(product)).isEmpty();
    }

    @Test
    void aWorkspaceMadeThroughTheAdminApiSetsAndShowsItsLlmSettings() throws Exception {
        String id = "q-llm-api-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> llm = Map.of("enabled", true, "model", "api-model",
                "placeholders", Map.of("TRENDING_QUESTION", "One question about {{metadata.product}} for {{email}}"),
                "fallbacks", Map.of("TRENDING_QUESTION", "Ask us anything"));
        HttpResponse<String> created = admin("POST", "/api/v1/workspaces",
                Map.of("id", id, "key_name", "ci", "settings", Map.of("llm", llm)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        @SuppressWarnings("unchecked")
        String secret = (String) ((Map<String, Object>) read(created.body()).get("api_key")).get("secret");

        HttpResponse<String> shown = admin("GET", "/api/v1/workspaces/" + id, null);
        @SuppressWarnings("unchecked")
        Map<String, Object> settings = (Map<String, Object>) read(shown.body()).get("settings");
        assertThat(settings.get("llm")).isEqualTo(llm);
        assertThat(shown.body()).doesNotContain("test-llm-key");

        // Each bad field named; nothing changes.
        HttpResponse<String> refused = admin("PATCH", "/api/v1/workspaces/" + id, Map.of("llm", Map.of(
                "enabled", "yes", "model", "bad model!", "placeholders", Map.of("lower_case", "x"),
                "fallbacks", Map.of("NOT_A_PLACEHOLDER", "y"), "api_key", "k")));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) read(refused.body()).get("errors");
        assertThat(errors).extracting(e -> e.get("field")).contains("llm.enabled", "llm.model",
                "llm.placeholders.lower_case", "llm.fallbacks.NOT_A_PLACEHOLDER", "llm.api_key");

        // The stored settings are the ones the step uses: the workspace's model, its prompt.
        String product = product();
        String to = "api-" + product + "@llm.test";
        answer(product, "api-model", "Which " + product + " suits me?", 3, 2);
        HttpResponse<String> sent = post(secret, placeholderMessage(product, List.of(to)), Map.of());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        MimeMessage copy = awaitCopy((String) read(sent.body()).get("id"));
        assertThat(copy.getSubject()).isEqualTo("Asked: Which " + product + " suits me? " + product);
        assertThat(read(requests(product).get(0).getBodyAsString())).containsEntry("model", "api-model");

        // Turned off, the placeholder stays.
        HttpResponse<String> off = admin("PATCH", "/api/v1/workspaces/" + id, Map.of("llm", Map.of("enabled", false)));
        assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
        String later = product();
        HttpResponse<String> untouched = post(secret, placeholderMessage(later, List.of(to)), Map.of());
        assertThat(untouched.statusCode()).as(untouched.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(status((String) read(untouched.body()).get("id"))).isEqualTo("SENT"));
        assertThat(awaitCopy((String) read(untouched.body()).get("id")).getSubject())
                .isEqualTo("Asked: <<TRENDING_QUESTION>> " + later);
        assertThat(requests(later)).isEmpty();
    }

    // --- helpers

    private HttpResponse<String> admin(String method, String path, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer admin-key");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(write(body)));
        }
        return send(request.build());
    }

    /**
     * The first call a relay makes (HTTP client, breaker, JSON all cold) can take longer than the
     * test's timeout on a loaded machine, and would then rightly get the fallback: the tests that
     * assert an answer make it first, once per JVM.
     */
    private void warmUp() {
        if (warm) {
            return;
        }
        String product = product();
        answer(product, "ask about", "warm", 1, 1);
        String to = "warm-" + product + "@llm.test";
        awaitCopy(submitCopies(ON, placeholderMessage(product, List.of(to))).get(to));
        warm = true;
    }

    private static String product() {
        return "product-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A message with the placeholder in its subject, its text and (both ways of writing it) its HTML. */
    private static Map<String, Object> placeholderMessage(String product, List<String> to) {
        return Map.of("from", "news@llm.test", "to", to,
                "subject", "Asked: <<TRENDING_QUESTION>> " + product,
                "text", "Question: <<TRENDING_QUESTION>>\n<<OTHER>> stays\n",
                "html", "<html><body><p><<TRENDING_QUESTION>></p><p>also &lt;&lt;TRENDING_QUESTION&gt;&gt;</p>"
                        + "</body></html>",
                "metadata", Map.of("product", product));
    }

    private void answer(String product, String marker, String content, int promptTokens, int completionTokens) {
        stub.stubFor(WireMock.post(urlEqualTo(PATH)).withRequestBody(containing(product)).withRequestBody(containing(marker))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody(completion(content, promptTokens, completionTokens))));
    }

    private static String completion(String content, int promptTokens, int completionTokens) {
        return write(Map.of("id", "chatcmpl-test", "object", "chat.completion",
                "choices", List.of(Map.of("index", 0, "finish_reason", "stop",
                        "message", Map.of("role", "assistant", "content", content))),
                "usage", Map.of("prompt_tokens", promptTokens, "completion_tokens", completionTokens,
                        "total_tokens", promptTokens + completionTokens)));
    }

    private List<LoggedRequest> requests(String product) {
        return stub.findAll(postRequestedFor(urlEqualTo(PATH)).withRequestBody(WireMock.containing(product)));
    }

    private void putName(String email, String firstName) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key(ON)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(write(Map.of("first_name", firstName)))).build());
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 299);
    }

    /** Submits and answers each recipient's copy id (the 202's messages). */
    private Map<String, String> submitCopies(String workspace, Map<String, Object> message) {
        HttpResponse<String> response = post(key(workspace), message, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        Map<String, String> ids = new java.util.LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> parts = (List<Map<String, Object>>) read(response.body()).get("messages");
        if (parts == null) {
            ids.put(((List<?>) message.get("to")).get(0).toString(), (String) read(response.body()).get("id"));
        } else {
            parts.forEach(part -> ids.put((String) part.get("email"), (String) part.get("id")));
        }
        return ids;
    }

    /** The copy the upstream received for a copy id (its Message-ID names it). */
    private MimeMessage awaitCopy(String id) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> !Upstreams.received(upstream, id).isEmpty());
        return Upstreams.received(upstream, id).get(0);
    }

    private static String text(Part part, String type) throws Exception {
        if (part.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) part.getContent();
            for (int i = 0; i < multipart.getCount(); i++) {
                String inner = text(multipart.getBodyPart(i), type);
                if (inner != null) {
                    return inner;
                }
            }
            return null;
        }
        return part.isMimeType(type) ? (String) part.getContent() : null;
    }

    private double calls(String outcome) {
        Counter counter = meters.find("relay.llm.calls").tag("workspace", ON).tag("outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    private double tokens(String kind) {
        Counter counter = meters.find("relay.llm.tokens").tag("workspace", ON).tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }
}
