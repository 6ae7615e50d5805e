package com.mailrelay.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.FaultUpstream;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Dead letters page: messages the upstream of workspace w-dead refuses for good (a 550 to RCPT
 * TO: FAILED, a hard bounce) appear under their reason and provider; one is replayed from the page
 * once the upstream takes mail again and is delivered; a selection of two is discarded, and the
 * rest by the page's filter. The w-dead upstream is this class's alone (test-routes/w.camel.yaml).
 */
class ConsoleDeadLettersBrowserTest extends BrowserSupport {

    private static final String WS = "w-dead";
    private final FaultUpstream upstream = Upstreams.deadLetters();

    @AfterEach
    void upstreamTakesMailAgain() {
        upstream.mode(FaultUpstream.Mode.ACCEPT);
    }

    @Test
    void aPermanentlyFailedMessageIsReplayedFromThePageAndSent() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        String refusal = "550 5.1.1 mailbox " + marker + " unavailable";
        upstream.refusal(refusal);
        upstream.mode(FaultUpstream.Mode.REFUSE_RECIPIENTS);
        String to = "dead-" + marker + "@customer.test";
        String id = submit(WS, message("app@w-dead.test", to, "dead then replayed " + marker));
        awaitStatus(id, "FAILED");
        String reason = (String) row(id).get("last_error");
        assertThat(reason).contains(marker);

        signIn(ADMIN_KEY);
        open("#/dead-letters?workspace=" + WS);
        WebElement group = groupOf(marker);
        assertThat(group.findElement(By.cssSelector(".dl-reason")).getText()).isEqualTo(reason);
        assertThat(group.findElement(By.cssSelector(".dl-provider")).getText()).isEqualTo("w-dead");
        assertThat(group.findElement(By.cssSelector(".dl-count-n")).getText()).isEqualTo("1");
        group.findElement(By.cssSelector("button[data-action=expand]")).click();
        WebElement item = waitFor(By.cssSelector("li.dl-item[data-id='" + id + "']"));
        assertThat(item.getText()).contains(to).contains("550").contains(marker);
        assertThat(item.findElement(By.cssSelector(".dl-reply time")).getAttribute("datetime")).isNotBlank();
        screenshot("group");
        phoneScreenshot("group-phone", "li.dl-item[data-id='" + id + "']");
        browser.manage().window().setSize(new Dimension(1280, 900));

        // The upstream takes mail again: replay it from the page.
        upstream.mode(FaultUpstream.Mode.ACCEPT);
        item.findElement(By.cssSelector("button[data-action=replay]")).click();
        waitForText(By.id("confirm-text"), "Replay 1 dead letter");
        assertThat(browser.findElement(By.id("confirm-text")).getText()).contains(to);
        confirm();
        waitForNotice("Replayed 1 dead letter (to " + to + ")");
        // The page follows it until it is sent ...
        waitForText(By.cssSelector("#dl-followed tr[data-id='" + id + "']"), "SENT");
        // ... and it is: at the upstream, once, and in the database.
        assertThat(upstream.copies()).containsEntry(id, 1);
        assertThat(status(id)).isEqualTo("SENT");
        assertThat(eventTypes(id)).containsSubsequence("hard_bounce", "operator.replay", "send");
        // It left the dead letters.
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("li.dl-item[data-id='" + id + "']")));
        assertThat(browser.findElements(By.cssSelector("li.dl-group"))).noneMatch(g -> g.getText().contains(marker));
        screenshot("replayed");
    }

    @Test
    void aSelectionOfTwoIsDiscardedFromThePageAndTheRestByItsFilter() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        upstream.refusal("550 5.7.1 recipient " + marker + " refused");
        upstream.mode(FaultUpstream.Mode.REFUSE_RECIPIENTS);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(submit(WS, message("app@w-dead.test", "sel" + i + "-" + marker + "@customer.test",
                    "selected " + i + " " + marker)));
        }
        ids.forEach(id -> awaitStatus(id, "FAILED"));

        // A workspace session: its own dead letters, no workspace filter to choose.
        signIn(key(WS));
        open("#/dead-letters");
        waitFor(By.cssSelector("form.filters"));
        assertThat(browser.findElements(By.cssSelector("form.filters input[name=workspace]"))).isEmpty();
        // Filter by the reason, through the form.
        WebElement reasonInput = browser.findElement(By.cssSelector("form.filters input[name=reason]"));
        reasonInput.sendKeys(marker);
        reasonInput.sendKeys(Keys.ENTER);
        waitUntil(ExpectedConditions.urlContains("reason=" + marker));
        waitForText(By.id("dl-summary"), "3 dead letters match this filter");
        WebElement group = groupOf(marker);
        assertThat(group.findElement(By.cssSelector(".dl-count-n")).getText()).isEqualTo("3");
        group.findElement(By.cssSelector("button[data-action=expand]")).click();
        for (String id : ids) {
            waitFor(By.cssSelector("li.dl-item[data-id='" + id + "']"));
        }

        // Select two, one by mouse and one by keyboard.
        checkbox(ids.get(0)).click();
        WebElement second = checkbox(ids.get(1));
        browser.executeScript("arguments[0].focus()", second);
        second.sendKeys(Keys.SPACE);
        waitForText(By.id("dl-selection-count"), "2 dead letters selected");
        screenshot("selection");
        phoneScreenshot("selection-phone", "li.dl-group");
        browser.manage().window().setSize(new Dimension(1280, 900));

        browser.findElement(By.cssSelector("button[data-action=discard-selected]")).click();
        waitForText(By.id("confirm-text"), "Discard the 2 selected dead letters");
        WebElement why = browser.findElement(By.cssSelector("dialog.confirm input[name=discard_reason]"));
        why.clear();
        why.sendKeys("duplicates " + marker);
        confirm();
        waitForNotice("Discarded 2 of the 2 selected dead letters");
        for (String id : ids.subList(0, 2)) {
            waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("li.dl-item[data-id='" + id + "']")));
            Map<String, Object> row = row(id);
            assertThat(row.get("status")).isEqualTo("FAILED");
            assertThat(row.get("discarded_at")).isNotNull();
        }
        assertThat(jdbc.queryForList("select type, detail from events where message_id = ? and type = 'operator.discard'",
                UUID.fromString(ids.get(0)))).singleElement().satisfies(e ->
                assertThat((String) e.get("detail")).contains("duplicates " + marker));
        assertThat(row(ids.get(2)).get("discarded_at")).isNull();
        waitForText(By.id("dl-summary"), "1 dead letter matches this filter");
        assertThat(groupOf(marker).findElement(By.cssSelector(".dl-count-n")).getText()).isEqualTo("1");

        // "Select all on this page" takes the one left; the whole filter's discard asks with its count.
        WebElement all = waitFor(By.cssSelector("input[name=select-page]"));
        all.click();
        waitForText(By.id("dl-selection-count"), "1 dead letter selected");
        browser.findElement(By.cssSelector("button[data-action=clear-selection]")).click();
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.id("dl-selection-count")));
        browser.findElement(By.cssSelector("button[data-action=discard-filter]")).click();
        waitForText(By.id("confirm-text"), "Discard 1 dead letter");
        assertThat(browser.findElement(By.id("confirm-text")).getText()).contains("reason contains “" + marker + "”");
        confirm();
        waitForNotice("Discarded 1 dead letter (reason contains “" + marker + "”)");
        waitFor(By.cssSelector("#dl-groups p.empty"));
        assertThat(browser.findElement(By.id("dl-groups")).getText()).contains("No dead letter matches this filter");

        // Every accepted message of the test is accounted for: refused for good, and discarded.
        for (String id : ids) {
            Map<String, Object> row = row(id);
            assertThat(row.get("status")).as(id).isEqualTo("FAILED");
            assertThat(row.get("discarded_at")).as(id).isNotNull();
            assertThat(upstream.copies()).doesNotContainKey(id);
        }
    }

    /** A screenshot at a phone's width, scrolled to the element (the window is made laptop-wide again after). */
    private void phoneScreenshot(String name, String css) {
        browser.manage().window().setSize(new Dimension(390, 844));
        browser.executeScript("arguments[0].scrollIntoView({block: 'start'})", browser.findElement(By.cssSelector(css)));
        screenshot(name);
        browser.manage().window().setSize(new Dimension(1280, 900));
    }

    private WebElement groupOf(String marker) {
        return waitUntil(driver -> driver.findElements(By.cssSelector("li.dl-group")).stream()
                .filter(g -> g.getText().contains(marker)).findFirst().orElse(null));
    }

    private WebElement checkbox(String id) {
        return browser.findElement(By.cssSelector("li.dl-item[data-id='" + id + "'] input[name=select]"));
    }
}
