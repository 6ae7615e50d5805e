package com.mailrelay.flow;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every way {@code POST /api/v1/messages} refuses a request, over real HTTP: the exact status, the
 * error code, for 400 the exact field names, and that nothing was stored. Each request carries a
 * unique marker in its metadata, so "nothing stored" is checked by that marker (other test classes
 * share the relay and its database) — and, for bodies that cannot carry one, by the workspace count.
 */
class RestValidationTest extends RelayTestSupport {

    private static final String WORKSPACE = "globex";
    /** relay.max-message-size: application-test.yml leaves the built-in default of 10MB. */
    private static final long LIMIT = 10L * 1024 * 1024;
    private static final Pattern MARKER = Pattern.compile("case-[0-9a-f-]{36}");
    /** Value for {@link #valid(Object...)}: leave the field out. */
    private static final Object ABSENT = new Object();

    // 1. A body that is not well-formed JSON is a 400 on "body", saying where it broke.
    @Test
    void malformedJsonIsRejectedWithItsPosition() {
        String truncated = "{\"metadata\": {\"case\": \"" + marker() + "\"},\n \"from\": \"a@b.c\",";
        Map<String, Object> error = assertInvalid(truncated, "body").get(0);
        assertThat((String) error.get("message")).matches("malformed JSON at line 2, column \\d+: .*");

        assertInvalid("{\"metadata\": {\"case\": \"" + marker() + "\"}, \"from\": 'a@b.c'}", "body");
        // Duplicate keys are refused (STRICT_DUPLICATE_DETECTION), not silently resolved to the last one.
        assertInvalid(write(valid()).replaceFirst("^\\{", "{\"subject\": \"first\", "), "body");
        // One object only: trailing content is refused.
        assertInvalid(write(valid()) + " {}", "body");
    }

    // 2. JSON that is not an object (null, nothing, an array, a string) is a 400 on "body".
    @Test
    void bodyThatIsNotAnObjectIsRejected() {
        assertInvalid("null", "body");
        assertInvalid("", "body");
        assertInvalid("[" + write(valid()) + "]", "body");
        assertInvalid("\"hello\"", "body");
    }

    // 3. Unknown fields are errors (a typo never silently drops data), named with their path.
    @Test
    void unknownFieldsAreRejectedByName() {
        assertInvalid(valid("subjet", "Typo"), "subjet");
        assertInvalid(valid("replyTo", "support@globex.test"), "replyTo");   // the API is snake_case
        assertInvalid(valid("attachments", List.of(Map.of("filename", "a.txt", "content", "YQ==", "nmae", "x"))),
                "attachments[0].nmae");
    }

    // 4. A value of the wrong JSON type is a 400 on that field, not a 500.
    @Test
    void wrongTypesAreRejectedByField() {
        // With ACCEPT_SINGLE_VALUE_AS_ARRAY an object where a list is expected is read as its one
        // element, so the error names that element.
        assertInvalid(valid("to", Map.of("x", 1)), "to[0]");
        assertInvalid(valid("to", List.of(Map.of("x", 1))), "to[0]");
        assertInvalid(valid("tags", Map.of("a", 1)), "tags[0]");
        assertInvalid(valid("subject", List.of("a", "b")), "subject");
        assertInvalid(valid("headers", "X-Campaign: a"), "headers");
        assertInvalid(valid("attachments", List.of(Map.of("filename", Map.of(), "content", "YQ=="))),
                "attachments[0].filename");
    }

    // 4b. ACCEPT_SINGLE_VALUE_AS_ARRAY: a single string where a list is expected is that one-element list.
    @Test
    void singleValuesAreAcceptedAsOneElementLists() {
        Map<String, Object> request = valid("to", "single@customer.test", "tags", "one-tag");
        HttpResponse<String> response = post(key(WORKSPACE), request, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        Map<String, Object> row = row((String) read(response.body()).get("id"));
        assertThat(row.get("recipients")).isEqualTo("[\"single@customer.test\"]");
        assertThat(row.get("tags")).isEqualTo("[\"one-tag\"]");
    }

    // 5. Each required field is named when missing; all of them at once when all are missing.
    @Test
    void missingRequiredFieldsAreEachNamed() {
        assertInvalid(valid("from", ABSENT), "from");
        assertInvalid(valid("to", ABSENT), "to");
        assertInvalid(valid("to", List.of()), "to");
        assertInvalid(valid("subject", ABSENT), "subject");
        assertInvalid(valid("subject", "   "), "subject");
        assertInvalid(valid("text", ABSENT), "text");
        assertInvalid(valid("text", "", "html", "  "), "text");
        assertInvalid(valid("from", ABSENT, "to", ABSENT, "subject", ABSENT, "text", ABSENT),
                "from", "to", "subject", "text");
    }

    // 6. Every address field is checked, and an error names the list position.
    @Test
    void invalidAddressesAreNamedByPosition() {
        String tooLong = "a".repeat(64) + "@" + (("b".repeat(60) + ".").repeat(4)) + "test";   // 313 chars
        assertInvalid(valid("from", "alice"), "from");
        assertInvalid(valid("from", "alice@"), "from");
        // globex may send only from globex.test (sender-domains), as over SMTP.
        assertInvalid(valid("from", "app@acme.test"), "from");
        assertInvalid(valid("from", "app@globex.test\r\nBcc: evil@x.y"), "from");
        assertInvalid(valid("to", List.of("alice")), "to[0]");
        assertInvalid(valid("to", List.of(tooLong)), "to[0]");
        assertInvalid(valid("cc", List.of("ok@customer.test", "alice@")), "cc[1]");
        // A group would slip many recipients (and suppressed ones) past the checks as one entry.
        assertInvalid(valid("to", List.of("team: a@customer.test, b@customer.test;")), "to[0]");
        assertInvalid(valid("bcc", List.of("not an address")), "bcc[0]");
        assertInvalid(valid("reply_to", "alice"), "reply_to");
        assertInvalid(valid("from", "alice", "to", List.of("bob@customer.test", "bob@"), "reply_to", "x@"),
                "from", "to[1]", "reply_to");
    }

    // 7. Subject and custom headers cannot inject header lines, exceed the line limit or override the relay's.
    @Test
    void subjectAndHeadersAreChecked() {
        assertInvalid(valid("subject", "s".repeat(999)), "subject");
        assertInvalid(valid("subject", "Hello\r\nBcc: evil@x.y"), "subject");
        assertInvalid(valid("subject", "Hello\nworld"), "subject");
        assertInvalid(valid("headers", Map.of("X-Campaign", "a\r\nBcc: evil@x.y")), "headers.X-Campaign");
        assertInvalid(valid("headers", Map.of("X-Campaign", "v".repeat(999))), "headers.X-Campaign");
        assertInvalid(valid("headers", Map.of("Bcc", "x@y.z")), "headers.Bcc");
        assertInvalid(valid("headers", Map.of("message-id", "<forged@x.y>")), "headers.message-id");
        assertInvalid(valid("headers", Map.of("X Campaign", "a")), "headers.X Campaign");
        assertInvalid(valid("headers", Map.of("X:Campaign", "a")), "headers.X:Campaign");
        Map<String, Object> nullValue = new LinkedHashMap<>();
        nullValue.put("X-Empty", null);
        assertInvalid(valid("headers", nullValue), "headers.X-Empty");
    }

    // 8. Attachments: each problem is named with the attachment's index and the field.
    @Test
    void invalidAttachmentsAreNamedByIndexAndField() {
        assertInvalid(valid("attachments", List.of(attachment("a.txt", "text/plain", "not base64!"))),
                "attachments[0].content");
        assertInvalid(valid("attachments", List.of(attachment(null, "text/plain", "YQ=="))),
                "attachments[0].filename");
        assertInvalid(valid("attachments", List.of(attachment("a.eml", "multipart/mixed", "YQ=="))),
                "attachments[0].content_type");
        assertInvalid(valid("attachments", List.of(attachment("a.txt", "nonsense", "YQ=="))),
                "attachments[0].content_type");
        assertInvalid(valid("attachments", List.of(attachment("a.txt", "text/plain", null))),
                "attachments[0].content");
        assertInvalid(valid("attachments", List.of(attachment("a.txt", "text/plain", "YQ=="),
                attachment("b.txt", "text/plain", "%%%"))), "attachments[1].content");
        List<Object> nullAttachment = new ArrayList<>();
        nullAttachment.add(null);
        assertInvalid(valid("attachments", nullAttachment), "attachments[0]");
    }

    // 9. The type must be a known one; at most 100 distinct recipients over to, cc and bcc; short fields are bounded.
    @Test
    void typeRecipientCountAndShortFieldsAreChecked() {
        assertInvalid(valid("type", "bulk"), "type");
        assertInvalid(valid("type", "Marketing"), "type");
        assertInvalid(valid("to", recipients(101)), "to");
        assertInvalid(valid("to", recipients(40), "cc", recipients(40).stream().map(a -> "cc-" + a).toList(),
                "bcc", recipients(21).stream().map(a -> "bcc-" + a).toList()), "to");
        assertInvalid(valid("tags", List.of("ok", "")), "tags[1]");
        assertInvalid(valid("campaign_id", "c".repeat(256)), "campaign_id");
        assertInvalid(valid("user_id", "u\r\n1"), "user_id");
    }

    // 9b. The limits are inclusive: exactly 100 recipients and a 998-character subject are accepted.
    @Test
    void limitsAreInclusive() {
        Map<String, Object> request = valid("to", recipients(60), "cc",
                recipients(100).subList(60, 100), "subject", "s".repeat(998));
        HttpResponse<String> response = post(key(WORKSPACE), request, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        // globex sends marketing by default: a personalised copy (row) per recipient.
        assertThat(storedWith(request)).isEqualTo(100);
    }

    // 10. A missing, unknown or non-Bearer credential is a 401 that asks for Bearer — checked before the body.
    @Test
    void missingOrWrongCredentialsAreUnauthorized() {
        assertUnauthorized(null, Map.of());
        assertUnauthorized("nope-key", Map.of());
        assertUnauthorized(null, Map.of("Authorization", "Basic "
                + Base64.getEncoder().encodeToString("globex:globex-key".getBytes(StandardCharsets.UTF_8))));
        assertUnauthorized(null, Map.of("Authorization", "Basic " + key(WORKSPACE)));
        assertUnauthorized(null, Map.of("Authorization", "Bearer"));
        assertUnauthorized(null, Map.of("Authorization", "Bearer "));
        // Authentication comes first: an anonymous malformed body learns nothing about validation.
        assertUnauthorizedResponse(post(null, "{\"from\":", Map.of()));
    }

    // 11. A body that is not declared as JSON is a 415, whatever it contains.
    @Test
    void nonJsonContentTypesAreUnsupported() {
        assertUnsupported("text/plain", write(valid()));
        assertUnsupported("text/plain; charset=UTF-8", write(valid()));
        assertUnsupported("application/x-www-form-urlencoded", "from=app%40globex.test&to=validation%40customer.test"
                + "&subject=validation&text=Body&metadata=" + marker());
        assertUnsupported(null, write(valid()));
    }

    // 12. A body over relay.max-message-size is a 413, whether its length is declared or it is chunked.
    @Test
    void oversizedBodiesAreTooLarge() {
        Map<String, Object> request = valid("text", "x".repeat((int) (LIMIT + LIMIT / 20)));   // ~10.5 MB
        byte[] json = write(request).getBytes(StandardCharsets.UTF_8);
        assertThat((long) json.length).isGreaterThan(LIMIT);

        assertTooLarge(send(jsonRequest().POST(HttpRequest.BodyPublishers.ofByteArray(json)).build()), request);
        assertTooLarge(send(jsonRequest().POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(json))).build()), request);
    }

    // 12b. A JSON body under the limit whose MIME is over it is a 413 too (checked on the built message).
    // Not hard to build after all: mostly-ASCII UTF-8 text goes out quoted-printable, where "aaaaé"
    // (6 bytes of JSON) becomes "aaaa=C3=A9" (10 bytes of MIME), so ~9 MB of JSON makes ~15 MB of MIME.
    @Test
    void messageWhoseMimeIsOverTheLimitIsTooLarge() {
        Map<String, Object> request = valid("text", "aaaaé".repeat(1_500_000));
        assertThat((long) write(request).getBytes(StandardCharsets.UTF_8).length).isLessThan(LIMIT);
        assertTooLarge(post(key(WORKSPACE), request, Map.of()), request);
    }

    // 12c. Marketing mail is copied per recipient: copies over 10 x the limit together are a 413,
    // refused before any is built.
    @Test
    void personalisedCopiesOverTheirLimitAreTooLarge() {
        List<String> readers = java.util.stream.IntStream.range(0, 40)
                .mapToObj(i -> "reader" + i + "@customer.test").toList();
        Map<String, Object> request = valid("text", "a".repeat(3_000_000), "to", readers);
        HttpResponse<String> response = post(key(WORKSPACE), request, Map.of());
        assertTooLarge(response, request);
        assertThat((String) read(response.body()).get("message")).contains("personalised copies for 40 recipients");
    }

    // 13. Idempotency-Key: a retry answers with the first message, a reuse with another body is a 422,
    // a malformed key is a 400 — one row in every case.
    @Test
    void idempotencyKeyDeduplicatesRetriesAndRefusesReuse() {
        String key = "order-" + UUID.randomUUID();
        Map<String, Object> request = valid();
        HttpResponse<String> first = post(key(WORKSPACE), request, Map.of("Idempotency-Key", key));
        HttpResponse<String> retry = post(key(WORKSPACE), request, Map.of("Idempotency-Key", key));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
        String id = (String) read(first.body()).get("id");
        assertThat(read(retry.body())).containsEntry("id", id);
        assertThat(rowsWithKey(key)).isEqualTo(1);

        Map<String, Object> other = valid();
        HttpResponse<String> reuse = post(key(WORKSPACE), other, Map.of("Idempotency-Key", key));
        assertError(reuse, 422, "idempotency_key_reused");
        assertThat(rowsWithKey(key)).isEqualTo(1);
        assertThat(storedWith(other)).isZero();

        // Keys are per workspace: the same key elsewhere is a new message.
        HttpResponse<String> elsewhere = post(key("acme"), valid("from", "app@acme.test", "to",
                List.of("idempotency@customer.test")), Map.of("Idempotency-Key", key));
        assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(202);
        assertThat(read(elsewhere.body()).get("id")).isNotEqualTo(id);
        assertThat(rowsWithKey(key)).isEqualTo(1);

        assertInvalid(valid(), Map.of("Idempotency-Key", "k".repeat(300)), "Idempotency-Key");
        assertInvalid(valid(), Map.of("Idempotency-Key", "two words"), "Idempotency-Key");
        assertInvalid(valid(), Map.of("Idempotency-Key", ""), "Idempotency-Key");
    }

    // 14. Responses never echo request headers: not the API key, not anything else the client sent.
    @Test
    void responsesDoNotEchoTheAuthorizationHeader() {
        HttpResponse<String> accepted = post(key(WORKSPACE), valid(), Map.of("X-Probe", "echo?"));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        assertThat(accepted.headers().firstValue("Authorization")).isEmpty();
        assertThat(accepted.headers().firstValue("X-Probe")).isEmpty();

        HttpResponse<String> refused = post(key(WORKSPACE), valid("subject", ABSENT), Map.of("X-Probe", "echo?"));
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.headers().firstValue("Authorization")).isEmpty();
        assertThat(refused.headers().firstValue("X-Probe")).isEmpty();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String marker() {
        return "case-" + UUID.randomUUID();
    }

    /**
     * A valid globex message with a fresh marker in its metadata, changed by (field, value) pairs;
     * {@link #ABSENT} removes a field.
     */
    private static Map<String, Object> valid(Object... changes) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("from", "app@globex.test");
        request.put("to", List.of("validation@customer.test"));
        request.put("subject", "validation");
        request.put("text", "Body");
        request.put("metadata", Map.of("case", marker()));
        for (int i = 0; i < changes.length; i += 2) {
            if (changes[i + 1] == ABSENT) {
                request.remove((String) changes[i]);
            } else {
                request.put((String) changes[i], changes[i + 1]);
            }
        }
        return request;
    }

    private static Map<String, Object> attachment(String filename, String contentType, String content) {
        Map<String, Object> attachment = new LinkedHashMap<>();
        attachment.put("filename", filename);
        attachment.put("content_type", contentType);
        attachment.put("content", content);
        return attachment;
    }

    private static List<String> recipients(int count) {
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            addresses.add("validation-" + i + "@customer.test");
        }
        return addresses;
    }

    private List<Map<String, Object>> assertInvalid(Object body, String... fields) {
        return assertInvalid(body, Map.of(), fields);
    }

    /** Sends to globex and asserts a 400 invalid_request naming exactly these fields, with nothing stored. */
    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> assertInvalid(Object body, Map<String, String> headers, String... fields) {
        long before = countMessages(WORKSPACE);
        HttpResponse<String> response = post(key(WORKSPACE), body, headers);
        String sent = body instanceof String s ? s : write(body);
        assertThat(response.statusCode()).as("%s -> %s", abbreviate(sent), response.body()).isEqualTo(400);
        Map<String, Object> error = assertError(response, 400, "invalid_request");
        List<Map<String, Object>> errors = (List<Map<String, Object>>) error.get("errors");
        assertThat(errors).extracting(e -> e.get("field")).as(response.body()).containsExactlyInAnyOrder(
                (Object[]) fields);
        assertThat(errors).allSatisfy(e -> assertThat((String) e.get("message")).isNotBlank());
        assertNothingStored(sent, before);
        return errors;
    }

    /** Sends a valid message with this API key (or none) and these headers, and asserts a 401 storing nothing. */
    private void assertUnauthorized(String apiKey, Map<String, String> headers) {
        Map<String, Object> request = valid();
        assertUnauthorizedResponse(post(apiKey, request, headers));
        assertThat(storedWith(request)).isZero();
    }

    private void assertUnauthorizedResponse(HttpResponse<String> response) {
        assertThat(assertError(response, 401, "unauthorized")).doesNotContainKey("errors");
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(response.headers().firstValue("Authorization")).isEmpty();
    }

    /** POSTs this body with this Content-Type (none if null) and asserts a 415 storing nothing. */
    private void assertUnsupported(String contentType, String body) {
        long before = countMessages(WORKSPACE);
        HttpRequest.Builder request = apiRequest().POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        assertError(send(request.build()), 415, "unsupported_media_type");
        assertNothingStored(body, before);
    }

    private void assertTooLarge(HttpResponse<String> response, Map<String, Object> request) {
        assertError(response, 413, "message_too_large");
        assertThat(storedWith(request)).isZero();
    }

    /** Asserts the status and a JSON error body with this code and a message for people; returns the body. */
    private static Map<String, Object> assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(abbreviate(response.body())).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        Map<String, Object> body = read(response.body());
        assertThat(body).containsEntry("error", code);
        assertThat((String) body.get("message")).isNotBlank();
        return body;
    }

    private void assertNothingStored(String body, long workspaceCountBefore) {
        Matcher marker = MARKER.matcher(body);
        if (marker.find()) {
            assertThat(countMarker(marker.group())).as("rows stored for " + marker.group()).isZero();
        } else {
            // No marker in the body (null, "", "hello"): fall back to the workspace's count around the request
            // (test classes run one after another, so nothing else submits to globex meanwhile).
            assertThat(countMessages(WORKSPACE)).isEqualTo(workspaceCountBefore);
        }
    }

    /** Rows stored for the request carrying this body's marker. */
    private long storedWith(Map<String, Object> request) {
        return countMarker((String) ((Map<?, ?>) request.get("metadata")).get("case"));
    }

    private long countMarker(String marker) {
        return jdbc.queryForObject("select count(*) from messages where metadata like ?", Long.class,
                "%" + marker + "%");
    }

    private long rowsWithKey(String idempotencyKey) {
        return jdbc.queryForObject("select count(*) from messages where workspace_id = ? and idempotency_key = ?",
                Long.class, WORKSPACE, idempotencyKey);
    }

    /** A request to the submission endpoint as globex, for bodies post() cannot send. */
    private HttpRequest.Builder apiRequest() {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/messages"))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + key(WORKSPACE));
    }

    private HttpRequest.Builder jsonRequest() {
        return apiRequest().header("Content-Type", "application/json");
    }

    private static String abbreviate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "… (" + text.length() + " chars)";
    }
}
