package com.mailrelay.templates;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stored templates end to end: versions through the API, preview, delete, another workspace kept
 * out; sends rendered per recipient (#if, #each, nested data, partials), escaped in HTML, a missing
 * field's 400 with its line (and a declared default filling it), tracked links in every copy, and
 * file templates read-only through the API.
 */
class TemplatesTest extends RelayTestSupport {

    private static final String A = "q-tpl-a";
    private static final String B = "q-tpl-b";
    private static final String ADMIN = "admin-key";
    private static final String FROM = "app@q-tpl.test";

    @Test
    void versionsPreviewSendWithAnOlderVersionAndDelete() {
        String name = unique("welcome");
        HttpResponse<String> created = call("POST", "/api/v1/templates", key(A), Map.of("name", name,
                "subject", "Hello {{name}}", "text", "v1 for {{name}}"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(read(created.body())).containsEntry("version", 1).containsEntry("source", "api");
        assertThat(call("POST", "/api/v1/templates", key(A), Map.of("name", name, "subject", "x", "text", "y"))
                .statusCode()).isEqualTo(409);

        HttpResponse<String> updated = call("PUT", "/api/v1/templates/" + name, key(A), Map.of(
                "subject", "Hi again {{name}}", "text", "v2 for {{name}}", "html", "<p>v2 {{name}}</p>"));
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        assertThat(read(updated.body())).containsEntry("version", 2).containsEntry("versions", List.of(1, 2));

        assertThat(read(get(key(A), "/api/v1/templates/" + name).body())).containsEntry("version", 2)
                .containsEntry("text", "v2 for {{name}}");
        assertThat(read(get(key(A), "/api/v1/templates/" + name + "?version=1").body())).containsEntry("version", 1)
                .containsEntry("text", "v1 for {{name}}");
        assertThat(get(key(A), "/api/v1/templates/" + name + "?version=3").statusCode()).isEqualTo(404);

        HttpResponse<String> preview = call("POST", "/api/v1/templates/" + name + "/preview?version=1", key(A),
                Map.of("data", Map.of("name", "Ada")));
        assertThat(preview.statusCode()).as(preview.body()).isEqualTo(200);
        assertThat(read(preview.body())).containsEntry("subject", "Hello Ada").containsEntry("text", "v1 for Ada")
                .containsEntry("version", 1);

        Map<String, Object> listed = read(get(key(A), "/api/v1/templates?limit=500").body());
        assertThat(listed.get("templates").toString()).contains("name=" + name + ", latest_version=2");

        // A send naming version 1 gets version 1 although 2 is the latest.
        String to = unique("ada") + "@customer.test";
        String id = (String) accepted(Map.of("from", FROM, "to", List.of(to), "template",
                Map.of("name", name, "version", 1), "template_data", Map.of("global", Map.of("name", "Ada")))).get("id");
        MimeMessage delivered = delivered(id);
        assertThat(part(delivered, "text/plain")).isEqualTo("v1 for Ada");
        assertThat(header(delivered, "Subject")).isEqualTo("Hello Ada");
        assertThat(row(id).get("subject")).isEqualTo("Hello Ada");

        // Another workspace's key: its own workspace has no such template; naming ours is refused.
        assertThat(get(key(B), "/api/v1/templates/" + name).statusCode()).isEqualTo(404);
        assertThat(get(key(B), "/api/v1/templates/" + name + "?workspace=" + A).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/templates/" + name + "/preview", key(B), Map.of()).statusCode())
                .isEqualTo(404);
        assertThat(call("DELETE", "/api/v1/templates/" + name + "?workspace=" + A, key(B), null).statusCode())
                .isEqualTo(403);
        assertThat(read(get(key(B), "/api/v1/templates?limit=500").body()).get("templates").toString())
                .doesNotContain(name);
        HttpResponse<String> foreignSend = post(key(B), Map.of("from", FROM, "to", List.of(to),
                "template", Map.of("name", name)), Map.of());
        assertThat(foreignSend.statusCode()).isEqualTo(400);
        assertThat(foreignSend.body()).contains("template.name");
        // The admin key names the workspace.
        assertThat(get(ADMIN, "/api/v1/templates/" + name + "?workspace=" + A).statusCode()).isEqualTo(200);
        assertThat(get(ADMIN, "/api/v1/templates/" + name).statusCode()).isEqualTo(400);

        assertThat(jdbc.queryForList("select action from audit_log where workspace_id = ? and target = ? order by id",
                String.class, A, name)).containsExactly("template.create", "template.update");

        HttpResponse<String> deleted = call("DELETE", "/api/v1/templates/" + name, key(A), null);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(read(deleted.body())).containsEntry("versions", 2).containsEntry("deleted", true);
        assertThat(get(key(A), "/api/v1/templates/" + name).statusCode()).isEqualTo(404);
        HttpResponse<String> afterDelete = post(key(A), Map.of("from", FROM, "to", List.of(to),
                "template", Map.of("name", name, "version", 1)), Map.of());
        assertThat(afterDelete.statusCode()).isEqualTo(400);
        assertThat(afterDelete.body()).contains("template.version").contains(name);
        assertThat(jdbc.queryForList("select action from audit_log where workspace_id = ? and target = ? order by id",
                String.class, A, name)).containsExactly("template.create", "template.update", "template.delete");
    }

    @Test
    void eachRecipientGetsItsOwnContentWithIfEachNestedDataAndPartials() {
        String name = unique("order");
        assertThat(call("POST", "/api/v1/templates", key(A), Map.of("name", name,
                "subject", "Order {{order.id}} for {{user.first}}",
                "text", "Hi {{user.first}},\n{{#if vip}}Thanks for being VIP.\n{{/if}}"
                        + "{{#each order.items}}- {{title}} x{{qty}}\n{{/each}}{{> footer}}",
                "html", "<p>Hi {{user.first}}</p><ul>{{#each order.items}}<li>{{title}}</li>{{/each}}</ul>",
                "partials", Map.of("footer", "-- {{shop}}"))).statusCode()).isEqualTo(201);
        long n = System.nanoTime();
        String ada = "ada-" + n + "@customer.test";
        String bob = "bob-" + n + "@customer.test";
        Map<String, Object> accepted = accepted(Map.of("from", FROM, "to", List.of(ada, bob),
                "template", Map.of("name", name),
                "template_data", Map.of("global", Map.of("shop", "Q Shop", "order", Map.of("id", "G-1",
                                "items", List.of(Map.of("title", "Default", "qty", 1)))),
                        "recipients", Map.of(
                                ada, Map.of("user", Map.of("first", "Ada"), "vip", true, "order", Map.of("id", "A-7",
                                        "items", List.of(Map.of("title", "Tea", "qty", 2), Map.of("title", "Cup", "qty", 1)))),
                                bob, Map.of("user", Map.of("first", "<script>alert(1)</script>"), "vip", false)))));
        Map<String, String> rows = rowsByRecipient(accepted);
        assertThat(rows).containsOnlyKeys(ada, bob);

        MimeMessage forAda = delivered(rows.get(ada));
        assertThat(header(forAda, "Subject")).isEqualTo("Order A-7 for Ada");
        assertThat(part(forAda, "text/plain")).isEqualTo("Hi Ada,\nThanks for being VIP.\n- Tea x2\n- Cup x1\n-- Q Shop");
        assertThat(part(forAda, "text/html")).isEqualTo("<p>Hi Ada</p><ul><li>Tea</li><li>Cup</li></ul>");
        assertThat(header(forAda, "To")).contains(ada).contains(bob);

        MimeMessage forBob = delivered(rows.get(bob));
        assertThat(header(forBob, "Subject")).isEqualTo("Order G-1 for <script>alert(1)</script>");
        assertThat(part(forBob, "text/plain")).isEqualTo("Hi <script>alert(1)</script>,\n- Default x1\n-- Q Shop");
        // Escaped in HTML, as written in text and subject.
        assertThat(part(forBob, "text/html")).isEqualTo(
                "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p><ul><li>Default</li></ul>");
        assertThat(row(rows.get(bob)).get("subject")).isEqualTo("Order G-1 for <script>alert(1)</script>");
    }

    @Test
    void aMissingFieldIsA400WithTemplateLineAndFieldUnlessTheTemplateDeclaresADefault() {
        String name = unique("strict");
        assertThat(call("POST", "/api/v1/templates", key(A), Map.of("name", name, "subject", "Hi",
                "text", "line one\nline two\nDear {{user.first_name}},")).statusCode()).isEqualTo(201);

        HttpResponse<String> preview = call("POST", "/api/v1/templates/" + name + "/preview", key(A),
                Map.of("data", Map.of("user", Map.of())));
        assertThat(preview.statusCode()).isEqualTo(400);
        assertThat(preview.body()).contains("template " + name + " v1 (text) line 3").contains("'user.first_name'");

        String campaign = unique("c");
        String to = unique("strict") + "@customer.test";
        HttpResponse<String> send = post(key(A), Map.of("from", FROM, "to", List.of(to), "campaign_id", campaign,
                "template", Map.of("name", name)), Map.of());
        assertThat(send.statusCode()).isEqualTo(400);
        assertThat(send.body()).contains("template " + name + " v1 (text) line 3").contains("'user.first_name'");
        // Per-recipient data: the error names the recipient's data; nothing is stored for any recipient.
        String other = unique("fine") + "@customer.test";
        HttpResponse<String> partly = post(key(A), Map.of("from", FROM, "to", List.of(other, to),
                "campaign_id", campaign, "template", Map.of("name", name), "template_data", Map.of("recipients",
                        Map.of(other, Map.of("user", Map.of("first_name", "Ok")), to, Map.of("user", Map.of())))),
                Map.of());
        assertThat(partly.statusCode()).isEqualTo(400);
        assertThat(partly.body()).contains("template_data.recipients." + to).contains("line 3")
                .doesNotContain("template_data.recipients." + other);
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id = ? and campaign_id = ?",
                Long.class, A, campaign)).isZero();

        // A template send may not carry its own subject or body.
        HttpResponse<String> both = post(key(A), Map.of("from", FROM, "to", List.of(to), "subject", "x",
                "text", "y", "template", Map.of("name", name)), Map.of());
        assertThat(both.statusCode()).isEqualTo(400);
        assertThat(both.body()).contains("\"field\":\"subject\"").contains("\"field\":\"text\"");

        // Data for an address that is not a recipient, or data without a template, is refused.
        HttpResponse<String> stranger = post(key(A), Map.of("from", FROM, "to", List.of(to),
                "template", Map.of("name", name), "template_data", Map.of("recipients",
                        Map.of("stranger@customer.test", Map.of("user", Map.of("first_name", "X"))))), Map.of());
        assertThat(stranger.statusCode()).isEqualTo(400);
        assertThat(stranger.body()).contains("template_data.recipients.stranger@customer.test");
        HttpResponse<String> dataAlone = post(key(A), Map.of("from", FROM, "to", List.of(to), "subject", "x",
                "text", "y", "template_data", Map.of("global", Map.of())), Map.of());
        assertThat(dataAlone.statusCode()).isEqualTo(400);
        assertThat(dataAlone.body()).contains("\"field\":\"template_data\"");

        // A syntax error is refused when the template is stored, with its line.
        HttpResponse<String> broken = call("PUT", "/api/v1/templates/" + name, key(A), Map.of("subject", "Hi",
                "text", "ok\n{{#if x}}unclosed"));
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).contains("\"field\":\"text\"").contains("line ");

        // The next version declares a default: the same data now renders.
        assertThat(call("PUT", "/api/v1/templates/" + name, key(A), Map.of("subject", "Hi",
                "text", "line one\nline two\nDear {{user.first_name}},",
                "defaults", Map.of("user.first_name", "customer"))).statusCode()).isEqualTo(200);
        HttpResponse<String> filled = call("POST", "/api/v1/templates/" + name + "/preview", key(A),
                Map.of("data", Map.of("user", Map.of())));
        assertThat(filled.statusCode()).as(filled.body()).isEqualTo(200);
        assertThat(read(filled.body())).containsEntry("text", "line one\nline two\nDear customer,")
                .containsEntry("version", 2);
        String id = (String) accepted(Map.of("from", FROM, "to", List.of(to), "template", Map.of("name", name)))
                .get("id");
        assertThat(part(delivered(id), "text/plain")).isEqualTo("line one\nline two\nDear customer,");
    }

    @Test
    void aTemplateSendWithTrackingHasTrackedLinksInEachCopyAndTimeRenders() {
        String name = unique("news");
        assertThat(call("POST", "/api/v1/templates", key(A), Map.of("name", name, "subject", "News for {{who}}",
                "text", "Sent {{DATE}} at {{TIME}} to {{EMAIL}}",
                "html", "<p>Hi {{who}}, <a href=\"https://shop.example/{{path}}\">see</a></p>")).statusCode())
                .isEqualTo(201);
        long n = System.nanoTime();
        String ada = "ada-" + n + "@customer.test";
        String bob = "bob-" + n + "@customer.test";
        LocalTime before = LocalTime.now(ZoneOffset.UTC).withNano(0);
        // Marketing mail of q-tpl-a tracks clicks and opens (the defaults).
        Map<String, String> rows = rowsByRecipient(accepted(Map.of("from", FROM, "to", List.of(ada, bob),
                "type", "marketing", "template", Map.of("name", name),
                "template_data", Map.of("global", Map.of("who", "you", "path", "sale"),
                        "recipients", Map.of(bob, Map.of("who", "Bob", "path", "bob"))))));
        for (String recipient : List.of(ada, bob)) {
            MimeMessage copy = delivered(rows.get(recipient));
            String html = part(copy, "text/html");
            assertThat(html).as(recipient).contains("https://relay.test/t/c/")
                    .doesNotContain("https://shop.example/").contains("https://relay.test/t/o/");
            assertThat(header(copy, "List-Unsubscribe")).contains("https://relay.test/u/");
            String text = part(copy, "text/plain");
            assertThat(text).startsWith("Sent " + LocalDate.now(ZoneOffset.UTC) + " at ").endsWith(" to " + recipient);
            String time = text.substring(("Sent " + LocalDate.now(ZoneOffset.UTC) + " at ").length(),
                    text.indexOf(" to "));
            assertThat(time).matches("\\d\\d:\\d\\d:\\d\\d");
            assertThat(LocalTime.parse(time)).isBetween(before.minusSeconds(1), LocalTime.now(ZoneOffset.UTC)
                    .plusSeconds(1));
        }
        assertThat(part(delivered(rows.get(bob)), "text/html")).startsWith("<p>Hi Bob, ");
        // Each copy's link leads to its own target.
        String bobLink = firstClick(part(delivered(rows.get(bob)), "text/html"));
        HttpResponse<String> redirect = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + bobLink.substring("https://relay.test".length()))).GET().build());
        assertThat(redirect.headers().firstValue("Location")).hasValue("https://shop.example/bob");
    }

    @Test
    void aFileTemplateIsSentAndReadOnlyThroughTheApi() throws IOException {
        String name = unique("file");
        Path dir = Path.of("target/test-templates", A);
        Files.createDirectories(dir.resolve("partials"));
        Files.writeString(dir.resolve(name + ".subject.hbs"), "From a file, {{name}}\n");
        Files.writeString(dir.resolve(name + ".text.hbs"), "Hello {{name}}. {{> signature-" + name + "}}");
        Files.writeString(dir.resolve("partials/signature-" + name + ".hbs"), "The team");

        Map<String, Object> view = read(get(key(A), "/api/v1/templates/" + name).body());
        assertThat(view).containsEntry("source", "file").containsEntry("file", A + "/" + name + ".*.hbs");
        HttpResponse<String> update = call("PUT", "/api/v1/templates/" + name, key(A), Map.of("subject", "x",
                "text", "y"));
        assertThat(update.statusCode()).isEqualTo(409);
        assertThat(update.body()).contains(A + "/" + name + ".*.hbs");
        assertThat(call("POST", "/api/v1/templates", key(A), Map.of("name", name, "subject", "x", "text", "y"))
                .statusCode()).isEqualTo(409);
        assertThat(call("DELETE", "/api/v1/templates/" + name, key(A), null).statusCode()).isEqualTo(409);
        assertThat(get(key(B), "/api/v1/templates/" + name).statusCode()).isEqualTo(404);

        String to = unique("file") + "@customer.test";
        String id = (String) accepted(Map.of("from", FROM, "to", List.of(to), "template", Map.of("name", name),
                "template_data", Map.of("global", Map.of("name", "Ada")))).get("id");
        MimeMessage delivered = delivered(id);
        assertThat(header(delivered, "Subject")).isEqualTo("From a file, Ada");
        assertThat(part(delivered, "text/plain")).isEqualTo("Hello Ada. The team");

        // A changed file is read again at its next use.
        Files.writeString(dir.resolve(name + ".text.hbs"), "Changed for {{name}}");
        Files.setLastModifiedTime(dir.resolve(name + ".text.hbs"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        HttpResponse<String> preview = call("POST", "/api/v1/templates/" + name + "/preview", key(A),
                Map.of("data", Map.of("name", "Bob")));
        assertThat(read(preview.body())).containsEntry("text", "Changed for Bob");
    }

    // ---- helpers

    private static String unique(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    private Map<String, Object> accepted(Map<String, Object> message) {
        HttpResponse<String> response = post(key(A), message, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return read(response.body());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> rowsByRecipient(Map<String, Object> accepted) {
        List<Map<String, String>> messages = (List<Map<String, String>>) accepted.get("messages");
        assertThat(messages).as("stored one row per recipient").isNotNull();
        return messages.stream().collect(Collectors.toMap(m -> m.get("email"), m -> m.get("id")));
    }

    private HttpResponse<String> call(String method, String path, String apiKey, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + apiKey);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(write(body)));
        }
        return send(request.build());
    }

    private static MimeMessage delivered(String id) {
        GreenMail server = Upstreams.greenMail("default");
        await().atMost(Duration.ofSeconds(30)).until(() -> Upstreams.received(server, id).size() == 1);
        return Upstreams.received(server, id).get(0);
    }

    private static String part(Part message, String type) {
        try {
            if (message.isMimeType(type)) {
                return ((String) message.getContent()).replace("\r\n", "\n");
            }
            if (message.isMimeType("multipart/*")) {
                Multipart multipart = (Multipart) message.getContent();
                for (int i = 0; i < multipart.getCount(); i++) {
                    String found = part(multipart.getBodyPart(i), type);
                    if (found != null) {
                        return found;
                    }
                }
            }
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String header(MimeMessage message, String name) {
        try {
            String value = message.getHeader(name, null);
            return value == null ? null : jakarta.mail.internet.MimeUtility.decodeText(
                    jakarta.mail.internet.MimeUtility.unfold(value));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstClick(String html) {
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("https://relay\\.test/t/c/[A-Za-z0-9_.-]+")
                .matcher(html);
        assertThat(matcher.find()).isTrue();
        return matcher.group();
    }

    @SuppressWarnings("unused")
    private static Map<String, Object> map(Object... pairs) {
        Map<String, Object> map = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((String) pairs[i], pairs[i + 1]);
        }
        return map;
    }
}
