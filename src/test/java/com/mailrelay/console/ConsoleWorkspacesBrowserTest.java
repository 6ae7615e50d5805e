package com.mailrelay.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Workspaces page: creating a workspace and changing its settings (with the API's field
 * errors shown by their fields), an API key made on the page (its secret shown once, working,
 * then refused once revoked from the page, and in the audit log), a workspace session kept to its
 * own workspace, and a suppression found by search and lifted.
 */
class ConsoleWorkspacesBrowserTest extends BrowserSupport {

    private static final String WORKSPACE = "w-tenants";

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void anAdminCreatesAWorkspaceAndChangesItsSettings() {
        String id = unique("w-tenants");
        signIn(ADMIN_KEY);
        open("#/workspaces");
        WebElement idInput = waitFor(By.cssSelector("#workspace-create input[name=id]"));
        idInput.sendKeys(id);
        browser.findElement(By.cssSelector("#workspace-create button[type=submit]")).click();
        waitForNotice("Created workspace " + id + " with API key console");
        // the first key's secret is shown, and the new workspace is in the list
        String secret = waitFor(By.cssSelector("[data-secret] input")).getAttribute("value");
        assertThat(secret).isNotBlank();
        assertThat(jdbc.queryForObject("select count(*) from workspaces where id = ? and source = 'api'", Long.class, id))
                .isOne();
        assertThat(get(secret, "/api/v1/workspaces/" + id).statusCode()).isEqualTo(200);
        screenshot("created");

        // found by its id (the list is by id, a page at a time) and opened
        open("#/workspaces");
        // the relay's audit log under the list has its creation, by the admin
        waitForText(By.cssSelector("#relay-audit #audit-list"), id);
        assertThat(browser.findElement(By.cssSelector("#relay-audit #audit-list")).getText()).contains("workspace.create");
        waitFor(By.cssSelector("#workspace-open input[name=workspace]")).sendKeys(id);
        browser.findElement(By.cssSelector("#workspace-open button[type=submit]")).click();
        waitForText(By.tagName("h1"), "Workspace " + id);

        // its settings: a bad sender domain is named by its field, and nothing changes
        WebElement domains = waitFor(By.cssSelector("#workspace-settings textarea[name=sender_domains]"));
        domains.sendKeys("Shop.Example");
        browser.findElement(By.cssSelector("#workspace-settings button[type=submit]")).click();
        confirm();
        waitForText(By.cssSelector("[data-field=sender_domains] .field-error"), "canonical");
        assertThat(jdbc.queryForObject("select settings_json from workspaces where id = ?", String.class, id))
                .doesNotContain("shop.example");
        screenshot("field-error");

        // fixed, with another change: both saved
        domains.clear();
        domains.sendKeys(id + ".example");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.cssSelector("select[name=default_type]")))
                .selectByValue("marketing");
        browser.findElement(By.cssSelector("#workspace-settings button[type=submit]")).click();
        confirm();
        waitForNotice("Saved workspace " + id + ": changed default_type, sender_domains");
        Map<String, Object> settings = settingsOf(id);
        assertThat(settings).containsEntry("default_type", "marketing")
                .containsEntry("sender_domains", List.of(id + ".example"));
        assertThat(browser.findElements(By.cssSelector(".field-error"))).isEmpty();
        browser.manage().window().setSize(new Dimension(390, 844));
        screenshot("phone-settings");
    }

    @Test
    void anApiKeyMadeOnThePageIsShownOnceWorksAndIsRefusedOnceRevoked() {
        String name = unique("page");
        signIn(ADMIN_KEY);
        open("#/workspaces/" + WORKSPACE + "/api-keys");
        waitFor(By.cssSelector("#api-key-create input[name=name]")).sendKeys(name);
        browser.findElement(By.cssSelector("#api-key-create button[type=submit]")).click();
        waitForNotice("Created API key " + name + " of workspace " + WORKSPACE);
        WebElement shown = waitFor(By.cssSelector("[data-secret] input"));
        String secret = shown.getAttribute("value");
        assertThat(secret).isNotBlank();
        waitFor(By.cssSelector("[data-revoke='" + name + "']"));
        screenshot("secret-shown");

        // the copy button puts it on the clipboard (granted to the page, as a user would)
        browser.executeCdpCommand("Browser.grantPermissions", Map.of("origin", url(""),
                "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
        browser.findElement(By.cssSelector("[data-secret] [data-copy]")).click();
        waitForNotice("Copied");
        Object clipboard = browser.executeAsyncScript(
                "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e));");
        assertThat(clipboard).isEqualTo(secret);

        // the key works for the API
        HttpResponse<String> sent = post(secret, message("app@w-tenants.test", "ann@example.org", "key " + name), Map.of());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        awaitStatus((String) read(sent.body()).get("id"), "SENT");

        // and its secret is never shown again: not after a reload, nowhere in the page
        open("#/workspaces/" + WORKSPACE + "/api-keys");
        waitFor(By.cssSelector("[data-revoke='" + name + "']"));
        assertThat(browser.findElements(By.cssSelector("[data-secret]"))).isEmpty();
        assertThat(browser.getPageSource()).doesNotContain(secret);

        // revoked from the page: the API refuses it
        browser.findElement(By.cssSelector("[data-revoke='" + name + "']")).click();
        confirm();
        waitForNotice("Revoked API key " + name + " of workspace " + WORKSPACE);
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("[data-revoke='" + name + "']")));
        HttpResponse<String> refused = post(secret, message("app@w-tenants.test", "ann@example.org", "revoked"), Map.of());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForObject("select count(*) from api_keys where workspace_id = ? and name = ?"
                + " and revoked_at is not null", Long.class, WORKSPACE, name)).isOne();

        // the audit log shows the key's creation (and its revocation), by the admin
        open("#/workspaces/" + WORKSPACE + "/audit?action=api-key.create");
        waitForText(By.id("audit-list"), name);
        String audit = browser.findElement(By.id("audit-list")).getText();
        assertThat(audit).contains("api-key.create").contains("admin").doesNotContain("api-key.revoke");
        open("#/workspaces/" + WORKSPACE + "/audit");
        waitForText(By.id("audit-list"), "api-key.revoke");
        screenshot("audit");
    }

    @Test
    void aWorkspaceSessionSeesOnlyItsOwnWorkspace() {
        signIn(key(WORKSPACE));
        open("#/workspaces");
        // straight to its own page: no list of the others, no way to create one
        waitUntil(ExpectedConditions.urlContains("#/workspaces/" + WORKSPACE));
        waitForText(By.tagName("h1"), "Workspace " + WORKSPACE);
        waitFor(By.id("workspace-settings"));
        assertThat(browser.findElements(By.id("workspace-list"))).isEmpty();
        assertThat(browser.findElements(By.id("workspace-create"))).isEmpty();
        assertThat(browser.findElements(By.id("workspace-toggle"))).as("no disable for a workspace key").isEmpty();
        // declared in application.yml: shown, not editable
        assertThat(browser.findElement(By.cssSelector("fieldset.ws-settings")).getAttribute("disabled")).isNotNull();
        browser.manage().window().setSize(new Dimension(390, 844));
        screenshot("phone-own");

        // another workspace's page is refused, and so is the API behind it
        open("#/workspaces/acme");
        waitForText(By.cssSelector("[data-refused]"), "sees only its own workspace");
        assertThat(browser.findElement(By.tagName("main")).getText()).doesNotContain("API keys");
        assertThat(fetchFromPage("GET", "/api/v1/workspaces/acme", null, false).get("status")).isEqualTo(403L);
        assertThat(fetchFromPage("GET", "/api/v1/workspaces", null, false).get("status")).isEqualTo(403L);
        assertThat(fetchFromPage("GET", "/api/v1/workspaces/acme/recipients", null, false).get("status")).isEqualTo(403L);
        screenshot("phone-refused");
    }

    @Test
    void aSuppressedAddressIsFoundBySearchAndLifted() {
        String local = unique("gone");
        String address = local + "@customer.test";
        String other = unique("stays") + "@customer.test";
        for (String a : List.of(address, other)) {
            HttpResponse<String> put = send(HttpRequest.newBuilder(URI.create(url("/api/v1/recipients/" + a)))
                    .header("Authorization", "Bearer " + key(WORKSPACE)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"status\": \"UNSUBSCRIBED\", \"reason\": \"asked\"}"))
                    .build());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        }
        signIn(ADMIN_KEY);
        open("#/workspaces/" + WORKSPACE + "/suppression");
        WebElement search = waitFor(By.cssSelector("#suppression-search input[name=q]"));
        search.sendKeys(local);
        search.submit();
        WebElement lift = waitFor(By.cssSelector("[data-lift='" + address + "']"));
        assertThat(browser.findElement(By.id("suppression-list")).getText()).contains(address).doesNotContain(other);
        browser.manage().window().setSize(new Dimension(390, 844));
        screenshot("phone-found");

        lift.click();
        confirm();
        waitForNotice("Lifted the suppression of " + address);
        waitForText(By.id("suppression-list"), "No address matches");
        assertThat(jdbc.queryForObject("select status from recipients where workspace_id = ? and email = ?",
                String.class, WORKSPACE, address)).isEqualTo("ACTIVE");
        assertThat(jdbc.queryForObject("select status from recipients where workspace_id = ? and email = ?",
                String.class, WORKSPACE, other)).isEqualTo("UNSUBSCRIBED");
    }

    @Test
    void anSmtpUserIsAddedWithAPasswordShownOnceAndRemoved() {
        String user = unique("w-tenants-mailer");
        signIn(key(WORKSPACE));
        open("#/workspaces/" + WORKSPACE + "/smtp-users");
        waitFor(By.cssSelector("#smtp-user-create input[name=username]")).sendKeys(user);
        browser.findElement(By.cssSelector("#smtp-user-create button[type=submit]")).click();
        waitForNotice("Added SMTP user " + user + " to workspace " + WORKSPACE);
        String password = waitFor(By.cssSelector("[data-secret] input")).getAttribute("value");
        assertThat(password).isNotBlank();
        String hash = jdbc.queryForObject("select password_hash from smtp_users where username = ? and workspace_id = ?",
                String.class, user, WORKSPACE);
        assertThat(new org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder().matches(password, hash)).isTrue();

        open("#/workspaces/" + WORKSPACE + "/smtp-users");
        waitFor(By.cssSelector("[data-remove='" + user + "']")).click();
        assertThat(browser.getPageSource()).doesNotContain(password);
        confirm();
        waitForNotice("Removed SMTP user " + user);
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("[data-remove='" + user + "']")));
        assertThat(jdbc.queryForObject("select count(*) from smtp_users where username = ?", Long.class, user)).isZero();
    }

    @Test
    void failedWebhookEventsAreReplayedAndDiscardedFromThePage() {
        String first = submit(WORKSPACE, message("app@w-tenants.test", "hook-1@example.org", "hook 1"));
        String second = submit(WORKSPACE, message("app@w-tenants.test", "hook-2@example.org", "hook 2"));
        awaitStatus(first, "SENT");
        awaitStatus(second, "SENT");
        // as the webhook outbox leaves events it gave up on
        long replayed = failSendEvent(first);
        long discarded = failSendEvent(second);

        signIn(ADMIN_KEY);
        open("#/workspaces/" + WORKSPACE + "/webhooks");
        waitFor(By.cssSelector("[data-replay='" + replayed + "']")).click();
        confirm();
        waitForNotice("Replayed webhook event " + replayed);
        assertThat(eventState(replayed)).isNotEqualTo("FAILED");

        waitFor(By.cssSelector("[data-discard='" + discarded + "']")).click();
        waitFor(By.cssSelector("dialog.confirm input[name=reason]")).sendKeys("the receiver is gone");
        confirm();
        waitForNotice("Discarded webhook event " + discarded);
        assertThat(eventState(discarded)).isEqualTo("DISCARDED");
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("[data-discard='" + discarded + "']")));
        assertThat(jdbc.queryForList("select action from audit_log where workspace_id = ? and action like 'webhook.%'",
                String.class, WORKSPACE)).contains("webhook.replay", "webhook.discard");
    }

    private long failSendEvent(String messageId) {
        Long id = jdbc.queryForObject("select id from events where message_id = ? and type = 'send'", Long.class,
                UUID.fromString(messageId));
        jdbc.update("update events set delivery_state = 'FAILED', attempts = 8, last_error = 'receiver answered 500'"
                + " where id = ?", id);
        return id;
    }

    private String eventState(long id) {
        return jdbc.queryForObject("select delivery_state from events where id = ?", String.class, id);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> settingsOf(String id) {
        HttpResponse<String> response = get(ADMIN_KEY, "/api/v1/workspaces/" + id);
        assertThat(response.statusCode()).isEqualTo(200);
        return (Map<String, Object>) read(response.body()).get("settings");
    }
}
