package com.mailrelay.tenants;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.workspace.WorkspaceStore;
import com.mailrelay.workspace.Workspaces;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The workspace admin API on the shared relay: a workspace made through it sends at once with its
 * key, settings are checked field by field, secrets are shown once and never again (nor audited),
 * keys are revoked, SMTP users made, rotated and deleted (real SMTP AUTH), a disabled workspace is
 * refused everywhere and its queue paused, and a workspace key stays inside its own workspace.
 */
class WorkspaceAdminTest extends RelayTestSupport {

    private static final String ADMIN = "admin-key";

    /** A workspace id of its own per test and run, so that runs and tests never meet. */
    private static String newId() {
        return "t-" + UUID.randomUUID().toString().substring(0, 12);
    }

    private HttpResponse<String> call(String method, String path, String key, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : write(body)));
        }
        return send(request.build());
    }

    /** Creates a workspace with a first key "ci" and returns that key's secret. */
    private String create(String id, Map<String, Object> settings) {
        HttpResponse<String> created = call("POST", "/api/v1/workspaces", ADMIN,
                Map.of("id", id, "key_name", "ci", "settings", settings));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        @SuppressWarnings("unchecked")
        Map<String, Object> key = (Map<String, Object>) read(created.body()).get("api_key");
        assertThat(key).containsEntry("name", "ci");
        return (String) key.get("secret");
    }

    private String auditOf(String id) {
        return String.join("\n", jdbc.queryForList("select action || ' ' || actor || ' ' || coalesce(target, '') || ' '"
                + " || coalesce(change_json, '') from audit_log where workspace_id = ? order by id", String.class, id));
    }

    @Test
    void aWorkspaceMadeThroughTheApiSendsWithItsKeyWhoseSecretIsShownOnce() {
        String id = newId();
        String secret = create(id, Map.of("sender_domains", List.of(id + ".test"), "variables", Map.of("SHOP", "Tea")));
        assertThat(secret).startsWith("mrk_").hasSizeGreaterThan(40);

        // Sends at once, in its own workspace.
        HttpResponse<String> sent = post(secret, message("app@" + id + ".test", "ann@customer.test", "hello"), Map.of());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        assertThat(countMessages(id)).isEqualTo(1);
        // Another workspace's domain is refused to it.
        assertThat(post(secret, message("app@acme.test", "ann@customer.test", "as acme"), Map.of()).statusCode())
                .isEqualTo(400);

        // The key reads its own workspace and makes another key: the audit names it, workspace:<id>/ci.
        HttpResponse<String> own = call("GET", "/api/v1/workspaces/" + id, secret, null);
        assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
        assertThat(read(own.body())).containsEntry("id", id).containsEntry("enabled", true).containsEntry("source", "api");
        HttpResponse<String> second = call("POST", "/api/v1/workspaces/" + id + "/api-keys", secret, Map.of("name", "deploy"));
        assertThat(second.statusCode()).as(second.body()).isEqualTo(201);
        String deploy = (String) read(second.body()).get("secret");
        assertThat(deploy).isNotEqualTo(secret);
        assertThat(jdbc.queryForObject("select actor from audit_log where action = 'api-key.create' and workspace_id = ?"
                + " and target = 'deploy'", String.class, id)).isEqualTo("workspace:" + id + "/ci");

        // Listed without any secret, with its last use; stored only as SHA-256.
        HttpResponse<String> keys = call("GET", "/api/v1/workspaces/" + id + "/api-keys", deploy, null);
        assertThat(keys.statusCode()).isEqualTo(200);
        assertThat(keys.body()).contains("\"ci\"", "\"deploy\"", "last_used_at").doesNotContain(secret, deploy);
        assertThat(jdbc.queryForList("select sha256 from api_keys where workspace_id = ?", String.class, id))
                .hasSize(2).doesNotContain(secret, deploy);
        await().atMost(Duration.ofSeconds(15)).until(() -> jdbc.queryForObject(
                "select count(*) from api_keys where workspace_id = ? and name = 'ci' and last_used_at is not null",
                Long.class, id) == 1);

        // Revoked: refused at once; a second revoke is a conflict; the listing shows when.
        HttpResponse<String> revoked = call("DELETE", "/api/v1/workspaces/" + id + "/api-keys/ci", deploy, null);
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
        assertThat(read(revoked.body()).get("revoked_at")).isNotNull();
        HttpResponse<String> refused = post(secret, message("app@" + id + ".test", "ann@customer.test", "after"), Map.of());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(call("DELETE", "/api/v1/workspaces/" + id + "/api-keys/ci", deploy, null).statusCode()).isEqualTo(409);
        assertThat(countMessages(id)).isEqualTo(1);

        // The audit has every step, no secret.
        String audit = auditOf(id);
        assertThat(audit).contains("workspace.create admin " + id, "api-key.create admin ci",
                "api-key.create workspace:" + id + "/ci deploy", "api-key.revoke workspace:" + id + "/deploy ci")
                .doesNotContain(secret, deploy);
        // The secret is in no later answer.
        assertThat(call("GET", "/api/v1/workspaces/" + id, ADMIN, null).body()).doesNotContain(secret);
    }

    @Test
    void settingsAreCheckedFieldByFieldAndNothingIsStored() {
        String id = newId();
        create(id, Map.of());
        Map<String, Object> bad = new java.util.LinkedHashMap<>();
        bad.put("default_type", "bulk");
        bad.put("sender_domains", List.of("Shop.Example", "acme.test", "not a domain"));
        bad.put("webhook", Map.of("url", "ftp://hooks.test/x"));
        bad.put("rate_limit", Map.of("window", "forever", "messages", -1));
        bad.put("variables", Map.of("1bad", "x"));
        bad.put("tracking", Map.of("opens", List.of("newsletters")));
        bad.put("retention", Map.of("raw_mime", "10y"));
        bad.put("dkim", List.of(Map.of("domain", id + ".test", "selector", "s1", "private_key", "not a pem")));
        bad.put("colour", "blue");
        HttpResponse<String> refused = call("PATCH", "/api/v1/workspaces/" + id, ADMIN, bad);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) read(refused.body()).get("errors");
        assertThat(errors).extracting(e -> e.get("field")).contains("default_type", "sender_domains[0]",
                "sender_domains[2]", "webhook.url", "rate_limit.window", "rate_limit.messages", "variables.1bad",
                "tracking.opens[0]", "retention.raw_mime", "colour");
        assertThat(refused.body()).contains("must be written canonically: shop.example");

        // The DKIM key is checked once the rest is valid; acme.test belongs to acme.
        HttpResponse<String> dkim = call("PATCH", "/api/v1/workspaces/" + id, ADMIN, Map.of("sender_domains",
                List.of("acme.test"), "dkim", List.of(Map.of("domain", id + ".test", "selector", "s1", "private_key",
                        "not a pem"))));
        assertThat(dkim.statusCode()).isEqualTo(400);
        assertThat(dkim.body()).contains("sender_domains[0]", "acme.test belongs to another workspace",
                "dkim[0].private_key");
        assertThat(jdbc.queryForObject("select count(*) from audit_log where workspace_id = ? and action ="
                + " 'workspace.update'", Long.class, id)).isZero();

        // Creating: the id and the settings are named too, and nothing is created.
        HttpResponse<String> badCreate = call("POST", "/api/v1/workspaces", ADMIN,
                Map.of("id", "Not_Valid", "key_name", "config-x", "settings", Map.of("default_type", 3)));
        assertThat(badCreate.statusCode()).isEqualTo(400);
        assertThat(badCreate.body()).contains("\"id\"", "\"key_name\"", "settings.default_type");
        assertThat(call("POST", "/api/v1/workspaces", ADMIN, Map.of("id", id)).statusCode()).isEqualTo(409);
    }

    @Test
    void secretsInSettingsAreNeverAnsweredNorAuditedAndTakeEffectAtOnce() throws Exception {
        String id = newId();
        create(id, Map.of());
        // No inbound key yet: the endpoint does not exist.
        assertThat(call("POST", "/api/v1/inbound/" + id + "/mailgun", null, Map.of("event-data", Map.of()))
                .statusCode()).isEqualTo(404);
        String pem = Files.readString(Path.of("src/test/resources/dkim/test-key.pem"));
        HttpResponse<String> updated = call("PATCH", "/api/v1/workspaces/" + id, ADMIN, Map.of(
                "webhook", Map.of("url", "https://hooks.test/" + id, "key", "hook-secret-" + id),
                "inbound", Map.of("mailgun_signing_key", "mailgun-secret-" + id),
                "dkim", List.of(Map.of("domain", id + ".test", "selector", "s2026", "private_key", pem)),
                "rate_limit", Map.of("window", "1h", "messages", 1000)));
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        assertThat(updated.body()).doesNotContain("hook-secret-", "mailgun-secret-", "PRIVATE KEY")
                .contains("\"key\":{\"set\":true}", "\"mailgun_signing_key\":{\"set\":true}",
                        "\"sendgrid_public_key\":{\"set\":false}", "\"private_key\":{\"set\":true}",
                        "https://hooks.test/" + id, "\"window\":\"PT1H\"");
        assertThat(call("GET", "/api/v1/workspaces/" + id, ADMIN, null).body())
                .doesNotContain("hook-secret-", "mailgun-secret-", "PRIVATE KEY");
        assertThat(auditOf(id)).contains("workspace.update").doesNotContain("hook-secret-", "mailgun-secret-",
                "PRIVATE KEY");

        // In effect without a restart: the inbound endpoint exists (an unsigned request is now 401) and the
        // DKIM record is published.
        assertThat(call("POST", "/api/v1/inbound/" + id + "/mailgun", null, Map.of("event-data", Map.of()))
                .statusCode()).isEqualTo(401);
        HttpResponse<String> dns = call("GET", "/api/v1/workspaces/" + id + "/dkim", ADMIN, null);
        assertThat(dns.statusCode()).as(dns.body()).isEqualTo(200);
        assertThat(dns.body()).contains("s2026._domainkey." + id + ".test", "v=DKIM1; k=rsa; p=");

        // A secret left out stays; the URL changes alone.
        HttpResponse<String> urlOnly = call("PATCH", "/api/v1/workspaces/" + id, ADMIN,
                Map.of("webhook", Map.of("url", "https://hooks.test/other")));
        assertThat(urlOnly.body()).contains("\"key\":{\"set\":true}", "https://hooks.test/other");
        assertThat(jdbc.queryForObject("select settings_json from workspaces where id = ?", String.class, id))
                .contains("hook-secret-" + id);
    }

    @Test
    void aWebhookSetThroughTheApiIsPostedToWithoutARestart() {
        String id = newId();
        String secret = create(id, Map.of());
        com.github.tomakehurst.wiremock.WireMockServer receiver = com.mailrelay.support.Upstreams.webhooks();
        receiver.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/" + id)
                .willReturn(com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(200)));
        HttpResponse<String> set = call("PATCH", "/api/v1/workspaces/" + id, secret, Map.of("webhook",
                Map.of("url", "http://127.0.0.1:" + receiver.port() + "/" + id, "key", "hook-key-" + id)));
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);

        String message = submit(secret, id);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                receiver.getAllServeEvents().stream().anyMatch(e -> e.getRequest().getUrl().equals("/" + id)
                        && e.getRequest().getBodyAsString().contains(message)
                        && e.getRequest().getHeader("X-Mandrill-Signature") != null));
    }

    private String submit(String secret, String id) {
        HttpResponse<String> sent = post(secret, message("app@" + id + ".test", "ann@customer.test", "hooked"), Map.of());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        return (String) read(sent.body()).get("id");
    }

    @Test
    void smtpUsersAreMadeRotatedAndDeletedWithRealLogins() {
        String id = newId();
        create(id, Map.of("sender_domains", List.of(id + ".test")));
        String user = id + "-mailer";
        HttpResponse<String> made = call("POST", "/api/v1/workspaces/" + id + "/smtp-users", ADMIN,
                Map.of("username", user));
        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        String password = (String) read(made.body()).get("password");
        assertThat(password).hasSizeGreaterThanOrEqualTo(20);
        assertThat(login(user, password)).startsWith("235");
        assertThat(jdbc.queryForObject("select password_hash from smtp_users where username = ?", String.class, user))
                .startsWith("$2").doesNotContain(password);
        // A name is unique across workspaces.
        assertThat(call("POST", "/api/v1/workspaces/" + id + "/smtp-users", ADMIN, Map.of("username", "acme"))
                .statusCode()).isEqualTo(409);

        // Rotated with a password of the caller's: the new one works at once, the old one no longer.
        String chosen = "chosen-password-" + id;
        HttpResponse<String> rotated = call("POST", "/api/v1/workspaces/" + id + "/smtp-users/" + user + "/rotate",
                ADMIN, Map.of("password", chosen));
        assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
        assertThat(rotated.body()).doesNotContain(chosen);
        assertThat(login(user, chosen)).startsWith("235");
        assertThat(login(user, password)).startsWith("535");
        // A short password is named.
        HttpResponse<String> weak = call("POST", "/api/v1/workspaces/" + id + "/smtp-users/" + user + "/rotate",
                ADMIN, Map.of("password", "short"));
        assertThat(weak.statusCode()).isEqualTo(400);
        assertThat(weak.body()).contains("password");

        // Deleted: refused.
        assertThat(call("DELETE", "/api/v1/workspaces/" + id + "/smtp-users/" + user, ADMIN, null).statusCode())
                .isEqualTo(200);
        assertThat(login(user, chosen)).startsWith("535");
        assertThat(auditOf(id)).contains("smtp-user.create admin " + user, "smtp-user.rotate admin " + user,
                "smtp-user.delete admin " + user).doesNotContain(password, chosen);
    }

    private String login(String user, String password) {
        try (SmtpConversation conversation = SmtpConversation.open(smtp.port())) {
            return conversation.login(user, password);
        }
    }

    @Test
    void aDisabledWorkspaceIsRefusedEverywhereAndItsQueuePausedUntilEnabled() {
        String id = newId();
        String domain = id + ".test";
        String secret = create(id, Map.of("sender_domains", List.of(domain)));
        HttpResponse<String> made = call("POST", "/api/v1/workspaces/" + id + "/smtp-users", ADMIN,
                Map.of("username", id, "password", "password-of-" + id));
        assertThat(made.statusCode()).isEqualTo(201);

        // Mail accepted before the switch-off: held by a pause of its own until the workspace is disabled.
        assertThat(call("POST", "/api/v1/queue/pause", ADMIN, Map.of("workspace", id, "email_type", "transactional",
                "reason", "until disabled")).statusCode()).isEqualTo(200);
        HttpResponse<String> before = post(secret, message("app@" + domain, "bob@customer.test", "before"), Map.of());
        assertThat(before.statusCode()).as(before.body()).isEqualTo(202);
        String held = (String) read(before.body()).get("id");

        // Only an admin disables.
        assertThat(call("POST", "/api/v1/workspaces/" + id + "/disable", secret, null).statusCode()).isEqualTo(403);
        HttpResponse<String> disabled = call("POST", "/api/v1/workspaces/" + id + "/disable", ADMIN, null);
        assertThat(disabled.statusCode()).as(disabled.body()).isEqualTo(200);
        assertThat(read(disabled.body())).containsEntry("enabled", false);
        assertThat(jdbc.queryForObject("select reason from queue_pauses where workspace_id = ? and email_type = '*'",
                String.class, id)).isEqualTo("workspace disabled");

        HttpResponse<String> rest = post(secret, message("app@" + domain, "ann@customer.test", "while disabled"), Map.of());
        assertThat(rest.statusCode()).isEqualTo(401);
        assertThat(rest.body()).contains("workspace " + id + " is disabled");
        assertThat(login(id, "password-of-" + id)).startsWith("535");
        try (SmtpConversation trusted = SmtpConversation.open(smtp.port(), "127.0.0.2")) {
            trusted.send("EHLO client.test");
            assertThat(trusted.send("MAIL FROM:<app@" + domain + ">")).startsWith("550").contains("disabled");
        }
        // Its own pause lifted, the held message still waits: the disabled workspace's queue is paused.
        assertThat(call("POST", "/api/v1/queue/resume", ADMIN, Map.of("workspace", id, "email_type", "transactional"))
                .statusCode()).isEqualTo(200);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                .until(() -> status(held).equals("QUEUED"));
        assertThat(countMessages(id)).isEqualTo(1);
        assertThat(call("POST", "/api/v1/workspaces/" + id + "/disable", ADMIN, null).statusCode()).isEqualTo(409);

        // Enabled: the pause is gone and every credential works again.
        assertThat(call("POST", "/api/v1/workspaces/" + id + "/enable", ADMIN, null).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("select count(*) from queue_pauses where workspace_id = ?", Long.class, id))
                .isZero();
        assertThat(post(secret, message("app@" + domain, "ann@customer.test", "enabled"), Map.of()).statusCode())
                .isEqualTo(202);
        assertThat(login(id, "password-of-" + id)).startsWith("235");
        awaitStatus(held, "SENT");
        assertThat(auditOf(id)).contains("workspace.disable admin " + id, "workspace.enable admin " + id);
    }

    @Test
    void aWorkspaceKeyStaysInsideItsOwnWorkspace() {
        String mine = newId();
        String other = newId();
        String key = create(mine, Map.of());
        create(other, Map.of());
        assertThat(call("GET", "/api/v1/workspaces/" + other, key, null).statusCode()).isEqualTo(403);
        assertThat(call("PATCH", "/api/v1/workspaces/" + other, key, Map.of("default_type", "marketing")).statusCode())
                .isEqualTo(403);
        assertThat(call("POST", "/api/v1/workspaces/" + other + "/api-keys", key, Map.of("name", "x")).statusCode())
                .isEqualTo(403);
        assertThat(call("DELETE", "/api/v1/workspaces/" + other + "/api-keys/ci", key, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/workspaces/" + other + "/smtp-users", key, Map.of("username", mine))
                .statusCode()).isEqualTo(403);
        assertThat(call("GET", "/api/v1/workspaces", key, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/workspaces", key, Map.of("id", newId())).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/workspaces/" + other + "/disable", key, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/workspaces/" + mine + "/enable", key, null).statusCode()).isEqualTo(403);
        // Its own settings it may change.
        HttpResponse<String> own = call("PATCH", "/api/v1/workspaces/" + mine, key, Map.of("default_type", "marketing"));
        assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
        assertThat(own.body()).contains("\"default_type\":\"marketing\"");
        assertThat(jdbc.queryForObject("select count(*) from audit_log where workspace_id = ?", Long.class, other))
                .isEqualTo(2);   // its creation and its first key, nothing of the other key's attempts

        // The admin lists every workspace, a page at a time, each once.
        java.util.Set<String> seen = new java.util.HashSet<>();
        String cursor = null;
        for (int page = 0; page < 100; page++) {
            Map<String, Object> body = read(call("GET", "/api/v1/workspaces?limit=7"
                    + (cursor == null ? "" : "&cursor=" + cursor), ADMIN, null).body());
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> workspaces = (List<Map<String, Object>>) body.get("workspaces");
            workspaces.forEach(w -> assertThat(seen.add((String) w.get("id"))).isTrue());
            cursor = (String) body.get("next_cursor");
            if (cursor == null) {
                break;
            }
        }
        assertThat(seen).contains(mine, other, "acme", "ops-tenants");
    }

    @Autowired
    RelayProperties properties;

    @Autowired
    WorkspaceStore store;

    @Autowired
    Workspaces workspaces;

    @Test
    void aWorkspaceLeavingApplicationYmlStaysWithoutTheCredentialsItDeclared() {
        // application.yml as it is, plus one workspace: written as a start would write it.
        String id = newId();
        String secret = "config-secret-" + id;
        Map<String, RelayProperties.Workspace> config = new java.util.LinkedHashMap<>(properties.workspaces());
        config.put(id, new RelayProperties.Workspace(null, List.of(Digests.sha256Hex(secret)), List.of(), Map.of(),
                null, null, null, null, null, null, null, false, null, null, null));
        List<WorkspaceStore.ConfigChange> added = store.applyConfig(config, java.time.Instant.now());
        assertThat(added).extracting(WorkspaceStore.ConfigChange::action)
                .containsExactly("workspace.create", "api-key.create");
        workspaces.changed();
        assertThat(call("GET", "/api/v1/workspaces/" + id, secret, null).statusCode()).isEqualTo(200);
        // The same file again changes nothing.
        assertThat(store.applyConfig(config, java.time.Instant.now())).isEmpty();

        // Gone from the file: the workspace stays (the API's now), its declared key does not.
        config.remove(id);
        assertThat(store.applyConfig(config, java.time.Instant.now())).extracting(WorkspaceStore.ConfigChange::action)
                .containsExactly("workspace.update", "api-key.revoke");
        workspaces.changed();
        assertThat(call("GET", "/api/v1/workspaces/" + id, secret, null).statusCode()).isEqualTo(401);
        assertThat(read(call("GET", "/api/v1/workspaces/" + id, ADMIN, null).body())).containsEntry("source", "api");
    }

    @Test
    void whatApplicationYmlDeclaresStaysItsOwn() {
        HttpResponse<String> keys = call("GET", "/api/v1/workspaces/ops-tenants/api-keys", ADMIN, null);
        assertThat(keys.statusCode()).isEqualTo(200);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) read(keys.body()).get("api_keys");
        String name = (String) list.get(0).get("name");
        assertThat(name).startsWith("config-");
        assertThat(list.get(0)).containsEntry("source", "config");

        HttpResponse<String> revoke = call("DELETE", "/api/v1/workspaces/ops-tenants/api-keys/" + name, ADMIN, null);
        assertThat(revoke.statusCode()).isEqualTo(409);
        assertThat(revoke.body()).contains("application.yml", "relay.workspaces.ops-tenants.api-key-sha256");
        HttpResponse<String> patch = call("PATCH", "/api/v1/workspaces/ops-tenants", key("ops-tenants"),
                Map.of("default_type", "marketing"));
        assertThat(patch.statusCode()).isEqualTo(409);
        assertThat(patch.body()).contains("application.yml");
        // The key of application.yml still works, and its audit actor is the workspace alone.
        assertThat(call("GET", "/api/v1/workspaces/ops-tenants", key("ops-tenants"), null).statusCode()).isEqualTo(200);
        // application.yml was applied at start as the relay.
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'workspace.create'"
                + " and workspace_id = 'ops-tenants' and actor = 'relay'", Long.class)).isEqualTo(1);
    }
}
