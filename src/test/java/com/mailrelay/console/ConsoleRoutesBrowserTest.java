package com.mailrelay.console;

import java.io.IOException;
import java.nio.file.Files;

import com.mailrelay.routing.RouteFileStatus;
import com.mailrelay.routing.RouteFilesTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Routes page in the relay of the route-file tests (uploads on, a copy of test-routes/ that is
 * put back after each test): a broken edit saved from the page is refused with its line and
 * changes nothing, on disk or in the running routes, and mail still goes out; a valid one is
 * saved and its route runs.
 */
class ConsoleRoutesBrowserTest extends RouteFilesTestSupport {

    private ConsolePage page;

    @BeforeAll
    static void startBrowser() throws IOException {
        ConsolePage.startBrowser();
    }

    @AfterAll
    static void stopBrowser() {
        ConsolePage.stopBrowser();
    }

    @BeforeEach
    void freshBrowser(TestInfo info) {
        page = new ConsolePage(port, getClass().getSimpleName() + "-"
                + info.getTestMethod().map(m -> m.getName()).orElse("test"));
        page.fresh();
    }

    @AfterEach
    void screenshotAtEnd() {
        page.screenshot("end");
    }

    @Test
    void aBrokenRouteFileSavedFromThePageIsRefusedWithItsLineAndTheRoutesKeepDelivering() {
        String original = readFile("w.camel.yaml");
        var routeBefore = camel.getRoute("chain-w");
        openRoutes();
        // the file's row, with its routes and last reload
        WebElement row = page.waitFor(By.cssSelector("#route-files tr[data-file='w.camel.yaml']"));
        assertThat(row.getText()).contains("chain-w").contains("loaded");
        page.screenshot("page");

        page.browser().findElement(By.cssSelector("button[data-edit='w.camel.yaml']")).click();
        page.waitUntil(d -> original.equals(editorText()));

        String broken = original.replace("direct:provider-default", "direct:provider-nowhere");
        setEditorText(broken);
        page.browser().findElement(By.id("route-editor-save")).click();
        page.waitForText(By.id("route-editor-error"), "direct:provider-nowhere");
        int line = lineOf(broken, "direct:provider-nowhere");
        WebElement refused = page.browser().findElement(By.cssSelector("#route-editor-result .editor-refused"));
        assertThat(refused.getText()).contains("Not saved: w.camel.yaml, line " + line)
                .contains(line + " | ").contains("- to: direct:provider-nowhere")
                .contains("Your text is kept in the editor");
        // no confirmation was asked for a version that does not validate, and the text is kept
        assertThat(page.browser().findElements(By.cssSelector("dialog.confirm"))).isEmpty();
        assertThat(editorText()).isEqualTo(broken);
        page.screenshot("refused");
        page.screenshotAtPhoneWidth("refused-phone", By.id("route-editor-result"));

        // "Show line N" puts the caret on it
        page.browser().findElement(By.id("route-editor-goto")).click();
        page.waitForText(By.id("route-editor-caret"), "Line " + line + ",");

        // YAML that does not parse: its line and column
        setEditorText(original.replaceFirst("      steps:", "      steps: [\n  -"));
        page.browser().findElement(By.id("route-editor-check")).click();
        page.waitForText(By.cssSelector("#route-editor-result h3"), "Does not validate: w.camel.yaml, line");
        assertThat(page.browser().findElement(By.cssSelector("#route-editor-result h3")).getText()).contains("column");

        // nothing changed on disk nor in the running routes
        assertThat(readFile("w.camel.yaml")).isEqualTo(original);
        RouteFileStatus status = routeFiles.status().stream().filter(s -> s.file().equals("w.camel.yaml"))
                .findFirst().orElseThrow();
        assertThat(status.lastError()).isNull();
        assertThat(camel.getRoute("chain-w")).isSameAs(routeBefore);
        assertThat(camel.getRoute("chain-w").getEndpoint().getEndpointUri()).isEqualTo("direct://chain-w");

        // and mail of the workspace is delivered through them right after
        String id = submit("w-routes", message("app@w-routes.test", "rita@customer.test", "routes still deliver"));
        awaitStatus(id, "SENT");
        assertThat(Upstreams.received(Upstreams.greenMail("default"), id)).hasSize(1);
        assertThat(eventTypes(id)).contains("send");
    }

    @Test
    void aValidRouteFileSavedFromThePageTakesEffect() throws IOException {
        openRoutes();
        new Select(page.waitFor(By.id("route-editor-file"))).selectByVisibleText("New file…");
        WebElement name = page.waitFor(By.id("route-editor-name"));
        name.sendKeys("extra.camel.yaml");
        String yaml = "- route:\n    id: extra-console\n    from:\n      uri: direct:extra-console\n"
                + "      steps:\n        - to: direct:provider-default\n";
        setEditorText(yaml);
        page.browser().findElement(By.id("route-editor-check")).click();
        page.waitForText(By.id("route-editor-result"), "extra.camel.yaml validates: routes extra-console");
        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();

        page.browser().findElement(By.id("route-editor-save")).click();
        page.waitForText(By.cssSelector("dialog.confirm"), "Create extra.camel.yaml with the routes extra-console");
        page.confirm();
        page.waitForNotice("Saved extra.camel.yaml: routes extra-console loaded and running");
        assertThat(Files.readString(ROUTES.resolve("extra.camel.yaml"))).isEqualTo(yaml);
        assertThat(camel.getRoute("extra-console")).isNotNull();

        // its file and its route are on the page
        page.waitFor(By.cssSelector("#route-files tr[data-file='extra.camel.yaml']"));
        WebElement filter = page.browser().findElement(By.name("route-id"));
        filter.sendKeys("extra-console");
        WebElement route = page.waitFor(By.cssSelector("#route-list tr[data-route='extra-console']"));
        assertThat(route.getText()).contains("extra.camel.yaml").contains("Started");
        page.screenshot("saved");
        page.screenshotAtPhoneWidth("saved-phone", By.id("route-files"));

        // Reload now asks, then says what it did
        page.browser().findElement(By.id("routes-reload")).click();
        page.confirm();
        page.waitForNotice("Reloaded:");
    }

    @Test
    void aWorkspaceKeyIsToldTheRoutesTakeTheAdminKey() {
        page.signIn(key("w-routes"));
        assertThat(page.browser().findElement(By.cssSelector("#nav a[data-page=routes]")).isDisplayed()).isFalse();
        page.open("#/routes");
        page.waitForText(By.id("main"), "Routing is managed with the admin key");
        assertThat(page.browser().findElements(By.id("route-editor-text"))).isEmpty();
    }

    private void openRoutes() {
        page.signIn(ADMIN);
        page.open("#/routes");
        page.waitFor(By.id("route-files"));
        page.waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("route-editor-text")));
    }

    private String editorText() {
        return (String) page.browser().executeScript("return document.getElementById('route-editor-text').value");
    }

    /** Replaces the editor's text as a paste would (an input event follows). */
    private void setEditorText(String text) {
        page.browser().executeScript("const t = document.getElementById('route-editor-text'); t.value = arguments[0];"
                + "t.dispatchEvent(new Event('input', {bubbles: true}));", text);
    }
}
