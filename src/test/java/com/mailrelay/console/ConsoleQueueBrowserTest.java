package com.mailrelay.console;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Queue page: pausing a workspace from the page holds its next message QUEUED (in the
 * database and on the page) while other mail is delivered; resuming from the page delivers it to
 * the upstream. A workspace key sees and pauses only its own workspace.
 */
class ConsoleQueueBrowserTest extends BrowserSupport {

    private static final String WORKSPACE = "w-queue";
    /** Delivered while w-queue is paused: the claims went on. */
    private static final String OTHER = "w-messages";

    @AfterEach
    void noPauseLeft() {
        jdbc.update("delete from queue_pauses where workspace_id = ?", WORKSPACE);
    }

    @Test
    void pausingAWorkspaceFromThePageHoldsItsMailAndResumingDeliversIt() {
        signIn(ADMIN_KEY);
        open("#/queue?q=" + WORKSPACE);
        WebElement group = waitFor(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "']"));
        assertThat(group.findElement(By.cssSelector("tr.queue-workspace")).getText()).contains("delivering");
        group.findElement(By.cssSelector("tr.queue-workspace button[data-action=pause]")).click();
        waitForText(By.cssSelector("dialog.confirm"), "Pause delivery of workspace " + WORKSPACE);
        browser.findElement(By.cssSelector("dialog.confirm input[name=reason]")).sendKeys("console test");
        confirm();
        waitForNotice("Paused workspace " + WORKSPACE + " (console test)");
        assertThat(jdbc.queryForList("select email_type, reason from queue_pauses where workspace_id = ?", WORKSPACE))
                .containsExactly(Map.of("email_type", "*", "reason", "console test"));
        waitForText(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "'] tr.queue-workspace"), "paused");

        String marker = UUID.randomUUID().toString().substring(0, 8);
        String held = submit(WORKSPACE, message("ops@w-queue.example", "held-" + marker + "@example.org", "Held " + marker));
        // mail of another workspace accepted after it is delivered: claims have come and gone
        String other = submit(OTHER, message("ops@w-messages.example", "other-" + marker + "@example.org", "Other " + marker));
        awaitStatus(other, "SENT");
        assertThat(status(held)).isEqualTo("QUEUED");
        assertThat(row(held).get("attempts")).isEqualTo(0);
        assertThat(Upstreams.received(Upstreams.greenMail("default"), held)).isEmpty();

        // on the page (after its refresh): held by the pause, not due
        @SuppressWarnings("unchecked")
        List<String> cells = waitUntil(d -> {
            d.findElement(By.xpath("//button[normalize-space()='Refresh']")).click();
            List<String> counts = (List<String>) browser.executeScript(
                    "const row = document.querySelector(\"tr.queue-type[data-workspace='w-queue'][data-type=transactional]\");"
                    + " return row ? [row.querySelector('[data-count=held]').textContent,"
                    + " row.querySelector('[data-count=due]').textContent] : null;");
            return counts != null && Long.parseLong(counts.get(0).replace(",", "")) >= 1 ? counts : null;
        });
        assertThat(cells.get(1)).isEqualTo("0");
        screenshot("paused-laptop");
        browser.manage().window().setSize(new Dimension(390, 844));
        browser.executeScript("arguments[0].scrollIntoView({block: 'start'})",
                browser.findElement(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "']")));
        screenshot("paused-phone");
        browser.manage().window().setSize(new Dimension(1280, 900));

        waitFor(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "'] tr.queue-workspace button[data-action=resume]"))
                .click();
        waitForText(By.cssSelector("dialog.confirm"), "Resume delivery of workspace " + WORKSPACE);
        confirm();
        waitForNotice("Resumed workspace " + WORKSPACE);
        awaitStatus(held, "SENT");
        await().untilAsserted(() -> assertThat(Upstreams.received(Upstreams.greenMail("default"), held)).hasSize(1));
        assertThat(jdbc.queryForObject("select count(*) from queue_pauses where workspace_id = ?", Long.class, WORKSPACE))
                .isZero();
        waitForText(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "'] tr.queue-workspace"), "delivering");

        // and the Messages page shows it SENT
        open("#/messages/" + held);
        waitFor(By.cssSelector("#message-events li[data-event=send]"));
        assertThat(browser.findElement(By.id("message-facts")).getText()).contains("SENT");
    }

    @Test
    void aWorkspaceKeySeesItsOwnWorkspaceAndPausesOneTypeOfIt() {
        signIn(key(WORKSPACE));
        open("#/queue");
        waitFor(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "']"));
        assertThat(browser.findElements(By.cssSelector("tbody[data-workspace]"))).hasSize(1);
        assertThat(browser.findElements(By.name("q"))).isEmpty();
        assertThat(browser.findElement(By.id("main")).getText()).doesNotContain("null").doesNotContain("undefined");

        By marketing = By.cssSelector("tr.queue-type[data-workspace='" + WORKSPACE + "'][data-type=marketing]");
        browser.findElement(marketing).findElement(By.cssSelector("button[data-action=pause]")).click();
        confirm();
        waitForNotice("Paused marketing mail of " + WORKSPACE);
        assertThat(jdbc.queryForList("select email_type from queue_pauses where workspace_id = ?", String.class, WORKSPACE))
                .containsExactly("marketing");
        waitForText(marketing, "paused");
        waitForText(By.cssSelector("tbody[data-workspace='" + WORKSPACE + "'] tr.queue-workspace"), "partly paused");
        screenshot("type-paused");

        waitFor(new By.ByCssSelector("tr.queue-type[data-workspace='" + WORKSPACE + "'][data-type=marketing]"
                + " button[data-action=resume]")).click();
        confirm();
        waitForNotice("Resumed marketing mail of " + WORKSPACE);
        assertThat(jdbc.queryForObject("select count(*) from queue_pauses where workspace_id = ?", Long.class, WORKSPACE))
                .isZero();
        waitForText(marketing, "delivering");
    }
}
