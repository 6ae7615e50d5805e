package com.mailrelay.tracking;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {{NAME}} variables are filled per recipient, from the request and from the recipient list;
 * values are escaped in HTML and cannot break out of a header; unknown names stay as written;
 * wrongly typed variables are refused with the field named.
 */
class VariablesTest extends TrackingTestSupport {

    @Test
    void eachRecipientGetsItsOwnValues() {
        long n = System.nanoTime();
        String ada = "ada-" + n + "@customer.test";
        String bob = "bob-" + n + "@customer.test";
        String cy = "cy-" + n + "@customer.test";
        putRecipient(ada, "{\"first_name\": \"Ada\", \"last_name\": \"Lovelace\"}");
        putRecipient(cy, "{\"first_name\": \"Cyril\", \"last_name\": \"Recorded\"}");

        Map<String, Object> accepted = accept("acme", Map.of("from", "app@acme.test", "to", List.of(ada, bob),
                "cc", List.of(cy), "subject", "Hello {{FIRST_NAME}}",
                "text", "Hi {{FIRST_NAME}} {{LAST_NAME}} <{{EMAIL}}> on {{DATE}} from {{WORKSPACE}}, campaign"
                        + " {{CAMPAIGN_ID}}, user {{ user_id }}. {{NOT_A_VARIABLE}} {{COLOR}}",
                "html", "<p>Hi {{FIRST_NAME}}, your colour is {{COLOR}}.</p>",
                "campaign_id", "c-9", "user_id", "u-3",
                "variables", Map.of("COLOR", "green"),
                "recipient_variables", Map.of(bob, Map.of("FIRST_NAME", "Bob <b>&", "COLOR", "\"red\""),
                        cy, Map.of("LAST_NAME", "Override"))));
        Map<String, String> rows = rowsByRecipient(accepted);
        assertThat(rows).containsOnlyKeys(ada, bob, cy);
        String today = LocalDate.now(ZoneOffset.UTC).toString();

        MimeMessage forAda = delivered("acme-transactional", rows.get(ada));
        assertThat(part(forAda, "text/plain")).isEqualTo("Hi Ada Lovelace <" + ada + "> on " + today
                + " from acme, campaign c-9, user u-3. {{NOT_A_VARIABLE}} green");
        assertThat(part(forAda, "text/html")).isEqualTo("<p>Hi Ada, your colour is green.</p>");
        assertThat(row(rows.get(ada)).get("subject")).isEqualTo("Hello Ada");
        assertThat(header(forAda, "List-Unsubscribe")).as("transactional: no unsubscribe header").isNull();

        // Values are escaped in HTML, as they are in text; request variables win over the record.
        MimeMessage forBob = delivered("acme-transactional", rows.get(bob));
        assertThat(part(forBob, "text/html")).isEqualTo("<p>Hi Bob &lt;b&gt;&amp;, your colour is &quot;red&quot;.</p>");
        assertThat(part(forBob, "text/plain")).startsWith("Hi Bob <b>& {{LAST_NAME}} <" + bob + ">");
        assertThat(row(rows.get(bob)).get("subject")).isEqualTo("Hello Bob <b>&");
        MimeMessage forCy = delivered("acme-transactional", rows.get(cy));
        assertThat(part(forCy, "text/plain")).startsWith("Hi Cyril Override <" + cy + ">");

        // Every copy is a message of its own, to every header recipient as written.
        assertThat(header(forAda, "Message-ID")).contains(rows.get(ada));
        assertThat(header(forBob, "Message-ID")).contains(rows.get(bob));
        assertThat(header(forBob, "To")).contains(ada).contains(bob);
    }

    @Test
    void workspaceVariablesAndHeaderSafety() {
        String to = "safe-" + System.nanoTime() + "@customer.test";
        // globex defines COMPANY = "Globex & Co".
        Map<String, Object> accepted = accept("globex", Map.of("from", "news@globex.test", "to", List.of(to),
                "subject", "{{GREETING}} from {{COMPANY}}", "html", "<p>{{COMPANY}}</p>", "text", "{{COMPANY}}",
                "variables", Map.of("GREETING", "Hi\r\nBcc: evil@attacker.test")));
        String id = rowsByRecipient(accepted).get(to);
        MimeMessage stored = stored(id);
        assertThat(header(stored, "Subject")).doesNotContain("\r").doesNotContain("\n");
        assertThat(header(stored, "Bcc")).isNull();
        assertThat(row(id).get("subject")).isEqualTo("Hi  Bcc: evil@attacker.test from Globex & Co");
        assertThat(part(stored, "text/html")).startsWith("<p>Globex &amp; Co</p>");
        assertThat(part(stored, "text/plain")).isEqualTo("Globex & Co");
        assertThat(row(id).get("recipients").toString()).doesNotContain("attacker");
    }

    @Test
    void badVariablesAreRefusedWithTheFieldNamed() {
        Map<String, Object> base = Map.of("from", "app@acme.test", "to", List.of("v@customer.test"),
                "subject", "x", "text", "{{A}}");
        assertRefused(with(base, "variables", Map.of("A", 42)), "variables.A");
        assertRefused(with(base, "variables", Map.of("A", Map.of("nested", "x"))), "variables.A");
        assertRefused(with(base, "variables", "not an object"), "variables");
        assertRefused(with(base, "variables", Map.of("bad name", "x")), "variables.bad name");
        assertRefused(with(base, "recipient_variables", Map.of("stranger@customer.test", Map.of("A", "x"))),
                "recipient_variables.stranger@customer.test");
        assertRefused(with(base, "recipient_variables", Map.of("v@customer.test", List.of("x"))),
                "recipient_variables.v@customer.test");
        assertRefused(with(base, "recipient_variables", Map.of("v@customer.test", Map.of("A", List.of()))),
                "recipient_variables.v@customer.test.A");
    }

    private void assertRefused(Map<String, Object> request, String field) {
        long before = countMessages("acme");
        HttpResponse<String> response = post(key("acme"), request, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        Map<String, Object> body = read(response.body());
        assertThat(body).containsEntry("error", "invalid_request");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) body.get("errors");
        assertThat(errors).extracting(e -> e.get("field")).as(response.body()).containsExactly(field);
        assertThat(countMessages("acme")).isEqualTo(before);
    }

    private static Map<String, Object> with(Map<String, Object> base, String field, Object value) {
        Map<String, Object> request = new java.util.HashMap<>(base);
        request.put(field, value);
        return request;
    }

    private void putRecipient(String email, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key("acme")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(read(response.body())).containsEntry("status", "ACTIVE");
    }
}
