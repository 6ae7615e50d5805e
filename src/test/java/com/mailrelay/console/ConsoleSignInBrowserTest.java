package com.mailrelay.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sign-in, the session cookie, CSRF and the console's security headers, in the browser and, where
 * a browser would not show it (headers, the throttle), over plain HTTP.
 */
class ConsoleSignInBrowserTest extends BrowserSupport {

    @Test
    void aWrongKeyIsRefusedAndTheRightOneSignsIn() {
        open("#/overview");
        WebElement input = waitFor(By.name("key"));
        input.sendKeys("not-a-key");
        browser.findElement(By.cssSelector("form.sign-in button[type=submit]")).click();
        waitForText(By.id("sign-in-error"), "refused");
        assertThat(browser.findElement(By.id("nav")).isDisplayed()).isFalse();
        assertThat(browser.manage().getCookieNamed(ConsoleSessions.COOKIE)).isNull();
        screenshot("refused");

        signIn(ADMIN_KEY);
        Cookie cookie = browser.manage().getCookieNamed(ConsoleSessions.COOKIE);
        assertThat(cookie).isNotNull();
        assertThat(cookie.isHttpOnly()).isTrue();
        assertThat(cookie.getSameSite()).isEqualTo("Strict");
        assertThat(browser.findElement(By.id("who-name")).getText()).isEqualTo("admin");
        // the page's script cannot read the session cookie
        assertThat((String) browser.executeScript("return document.cookie")).doesNotContain(ConsoleSessions.COOKIE);

        // signing out ends the session on the server, not only in the browser
        String token = cookie.getValue();
        browser.findElement(By.id("sign-out")).click();
        waitFor(By.name("key"));
        HttpResponse<String> after = send(HttpRequest.newBuilder(URI.create(url("/api/v1/messages")))
                .header("Cookie", ConsoleSessions.COOKIE + "=" + token).GET().build());
        assertThat(after.statusCode()).isEqualTo(401);
    }

    @Test
    void aSessionEndsWithItsKeyAndSignInsAreAudited() {
        String keyName = "console-" + System.nanoTime();
        HttpResponse<String> created = send(HttpRequest.newBuilder(URI.create(url("/api/v1/workspaces/w-tenants/api-keys")))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + keyName + "\"}")).build());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String secret = (String) read(created.body()).get("secret");

        signIn(secret);
        assertThat(browser.findElement(By.id("who-name")).getText()).isEqualTo("workspace w-tenants (" + keyName + ")");
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'console.sign_in'"
                + " and actor = ? and remote_address is not null", Long.class, "workspace:w-tenants/" + keyName))
                .isEqualTo(1);

        HttpResponse<String> revoked = send(HttpRequest.newBuilder(
                URI.create(url("/api/v1/workspaces/w-tenants/api-keys/" + keyName)))
                .header("Authorization", "Bearer " + ADMIN_KEY).DELETE().build());
        assertThat(revoked.statusCode()).as(revoked.body()).isBetween(200, 204);
        // the API refuses the session's next call, and the session itself is over
        assertThat(fetchFromPage("GET", "/api/v1/messages", null, false).get("status")).isEqualTo(401L);
        assertThat(fetchFromPage("GET", ConsoleFilter.SESSION_PATH, null, false).get("status")).isEqualTo(401L);
        // and the page, loaded again, asks to sign in
        open("#/overview");
        waitFor(By.name("key"));
    }

    @Test
    void aWorkspaceKeySeesOnlyItsWorkspace() {
        signIn(key("acme"));
        assertThat(browser.findElement(By.id("who-name")).getText()).isEqualTo("workspace acme");
        // the admin-only pages are not offered
        assertThat(browser.findElement(By.cssSelector("#nav a[data-page=providers]")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.cssSelector("#nav a[data-page=routes]")).isDisplayed()).isFalse();
        // and the API, through the same session, refuses another workspace and the admin routes
        Map<String, Object> other = fetchFromPage("GET", "/api/v1/messages?workspace=esp", null, false);
        assertThat(other.get("status")).isEqualTo(403L);
        // (an admin-only path refuses any other key at the gate, before its route: 401)
        Map<String, Object> admin = fetchFromPage("GET", "/api/v1/providers", null, false);
        assertThat(admin.get("status")).isEqualTo(401L);
        Map<String, Object> own = fetchFromPage("GET", "/api/v1/messages?workspace=acme", null, false);
        assertThat(own.get("status")).isEqualTo(200L);
    }

    @Test
    void aChangeWithoutTheCsrfTokenIsRefusedAndNothingChanges() {
        signIn(ADMIN_KEY);
        String body = "{\"workspace\": \"acme\", \"reason\": \"csrf test\"}";
        Map<String, Object> refused = fetchFromPage("POST", "/api/v1/queue/pause", body, false);
        assertThat(refused.get("status")).isEqualTo(403L);
        assertThat((String) refused.get("body")).contains("csrf_failed").contains("X-CSRF-Token");
        assertThat(jdbc.queryForObject("select count(*) from queue_pauses where workspace_id = 'acme'", Long.class))
                .isZero();
        // the same change with the token goes through (and is undone)
        Map<String, Object> allowed = fetchFromPage("POST", "/api/v1/queue/pause", body, true);
        assertThat(allowed.get("status")).as((String) allowed.get("body")).isEqualTo(200L);
        Map<String, Object> resumed = fetchFromPage("POST", "/api/v1/queue/resume", "{\"workspace\": \"acme\"}", true);
        assertThat(resumed.get("status")).as((String) resumed.get("body")).isEqualTo(200L);
    }

    @Test
    void theConsoleIsServedWithItsSecurityHeadersAndItsOwnAssets() {
        HttpResponse<String> page = send(HttpRequest.newBuilder(URI.create(url("/console/"))).GET().build());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("script-src 'self'").contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
        assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        // no inline script, and nothing from another origin
        assertThat(page.body()).doesNotContainPattern("<script>").doesNotContain("http://").doesNotContain("https://");
        for (String asset : List.of("/webjars/uplot/dist/uPlot.iife.min.js", "/console/js/app.js", "/console/console.css")) {
            HttpResponse<String> served = send(HttpRequest.newBuilder(URI.create(url(asset))).GET().build());
            assertThat(served.statusCode()).as(asset).isEqualTo(200);
        }
        // the page works: it draws the sign-in form (its script ran under the policy)
        open("");
        waitFor(By.name("key"));
        // and the policy holds in the browser: an inline script put into the page does not run, and
        // the refusal is what the browser logs (every test checks its log has none)
        browser.executeScript("const s = document.createElement('script'); s.textContent = 'window.inlineRan = 1';"
                + " document.head.append(s);");
        assertThat(browser.executeScript("return window.inlineRan === undefined")).isEqualTo(true);
        List<String> log = browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
                .map(org.openqa.selenium.logging.LogEntry::getMessage).toList();
        assertThat(log).anySatisfy(m -> assertThat(m).contains("Content Security Policy").contains("script-src"));
    }

    @Test
    void signInIsJsonOnlyAndThrottledPerAddress() {
        HttpResponse<String> form = send(HttpRequest.newBuilder(URI.create(url(ConsoleFilter.SESSION_PATH)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("key=admin-key")).build());
        assertThat(form.statusCode()).isEqualTo(415);
        // From 127.0.0.3, this test's own address (the others sign in from 127.0.0.1): ten failures
        // in the window, then 429 even for the right key.
        for (int i = 0; i < 10; i++) {
            assertThat(signInFrom("wrong-" + i).statusCode()).isEqualTo(401);
        }
        Raw throttled = signInFrom(ADMIN_KEY);
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.hasHeader("Retry-After")).isTrue();
        assertThat(throttled.text()).contains("too many failed sign-ins");
    }

    /** A sign-in over a socket bound to 127.0.0.3, so that the throttle counts this address alone. */
    private Raw signInFrom(String key) {
        String body = "{\"key\":\"" + key + "\"}";
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.bind(new java.net.InetSocketAddress("127.0.0.3", 0));
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            String request = "POST " + ConsoleFilter.SESSION_PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length()
                    + "\r\nConnection: close\r\n\r\n" + body;
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = Integer.parseInt(answer.substring(9, 12));
            return new Raw(status, answer);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private record Raw(int statusCode, String text) {
        boolean hasHeader(String name) {
            return text.toLowerCase(java.util.Locale.ROOT).contains("\r\n" + name.toLowerCase(java.util.Locale.ROOT) + ":");
        }
    }
}
