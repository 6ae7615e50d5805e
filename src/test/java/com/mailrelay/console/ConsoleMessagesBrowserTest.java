package com.mailrelay.console;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
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
 * The Messages page: a message sent over REST shows in the filtered list as SENT and its detail
 * has its send event and delivery attempt; markup in a message is shown as text and runs nothing;
 * a scheduled message is cancelled from its page.
 */
class ConsoleMessagesBrowserTest extends BrowserSupport {

    private static final String WORKSPACE = "w-messages";

    @Test
    void aMessageSentOverRestIsListedAsSentAndItsDetailShowsTheSendEvent() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        String recipient = "listed-" + marker + "@example.org";
        String id = submit(WORKSPACE, message("shop@w-messages.example", recipient, "Order " + marker + " shipped"));
        awaitStatus(id, "SENT");

        signIn(ADMIN_KEY);
        open("#/messages");
        // the filters of the form end up in the hash, so the view can be linked
        waitFor(By.name("workspace")).sendKeys(WORKSPACE);
        browser.findElement(By.name("recipient")).sendKeys(recipient);
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.name("status"))).selectByValue("SENT");
        browser.findElement(By.cssSelector("form.filters button[type=submit]")).click();
        waitUntil(ExpectedConditions.urlContains("recipient="));
        assertThat(browser.getCurrentUrl()).contains("workspace=" + WORKSPACE).contains("status=SENT");
        WebElement row = waitFor(By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(row.getText()).contains("SENT").contains("Order " + marker + " shipped").contains(recipient);
        assertThat(browser.findElements(By.cssSelector(".messages-results tbody tr"))).hasSize(1);
        screenshot("list-laptop");
        browser.manage().window().setSize(new Dimension(390, 844));
        screenshot("list-phone");
        browser.manage().window().setSize(new Dimension(1280, 900));

        row.findElement(By.cssSelector("a.message-link")).click();
        waitFor(By.cssSelector("#message-events li[data-event=send]"));
        assertThat(browser.findElement(By.id("message-facts")).getText()).contains(id).contains("SENT")
                .contains(WORKSPACE).contains(recipient);
        // its delivery attempt, with the provider's reply, and the raw MIME as text
        waitForText(By.id("message-attempts"), "SENT");
        waitForText(By.id("raw-mime"), "Subject: Order " + marker + " shipped");
        // nothing to cancel or retry on a sent message
        assertThat(browser.findElements(By.cssSelector("button[data-action]"))).isEmpty();
        scrollTo(By.id("message-events"));
        screenshot("detail-laptop");
        browser.manage().window().setSize(new Dimension(390, 844));
        scrollTo(By.id("message-events"));
        screenshot("detail-phone");

        // the back link keeps the filters
        browser.manage().window().setSize(new Dimension(1280, 900));
        browser.findElement(By.linkText("← Messages")).click();
        waitFor(By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(browser.getCurrentUrl()).contains("recipient=");

        // The list is newest first unless asked otherwise: a later message of the workspace comes
        // before this one, and "Oldest first" turns it round.
        String later = submit(WORKSPACE, message("shop@w-messages.example", "later-" + marker + "@example.org",
                "Later " + marker));
        open("#/messages?workspace=" + WORKSPACE + "&since=" + java.time.Instant.now().minusSeconds(600)
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        waitFor(By.cssSelector("tr[data-id='" + later + "']"));
        List<String> newestFirst = rowIds();
        assertThat(newestFirst.indexOf(later)).isLessThan(newestFirst.indexOf(id)).isZero();
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.name("order"))).selectByValue("oldest");
        browser.findElement(By.cssSelector("form.filters button[type=submit]")).click();
        waitUntil(ExpectedConditions.urlContains("order=oldest"));
        waitUntil(d -> {
            try {
                List<String> oldestFirst = rowIds();
                return oldestFirst.indexOf(id) >= 0 && oldestFirst.indexOf(id) < oldestFirst.indexOf(later);
            } catch (org.openqa.selenium.StaleElementReferenceException redrawn) {
                return false;
            }
        });
        awaitStatus(later, "SENT");
    }

    private List<String> rowIds() {
        return browser.findElements(By.cssSelector(".messages-results tbody tr")).stream()
                .map(r -> r.getAttribute("data-id")).toList();
    }

    @Test
    void markupInAMessageIsShownAsTextAndRunsNothing() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        String html = "<p>Hello</p><script>window.__pwned = 1; document.title = 'pwned';</script>"
                + "<img src=\"x\" onerror=\"window.__pwned = 2; document.title = 'pwned'\">";
        Map<String, Object> body = new HashMap<>(Map.of("from", "shop@w-messages.example",
                "to", List.of("markup-" + marker + "@example.org"),
                "subject", "<img src=x onerror=\"window.__pwned=3\"> " + marker, "html", html));
        String id = submit(WORKSPACE, body);
        awaitStatus(id, "SENT");

        signIn(key(WORKSPACE));
        open("#/messages/" + id);
        waitForText(By.id("raw-mime"), "<script>");
        String raw = browser.findElement(By.id("raw-mime")).getText();
        assertThat(raw).contains("<script>").contains("onerror=");
        // the markup is text: no element was made of it, and no script of it ran
        assertThat(browser.findElements(By.cssSelector("#raw-mime *, main script, main img, main iframe"))).isEmpty();
        assertThat(browser.findElement(By.cssSelector("h1.messages-title")).getText()).contains("<img src=x onerror=");
        assertThat(browser.executeScript("return window.__pwned === undefined")).isEqualTo(Boolean.TRUE);
        assertThat(browser.getTitle()).isNotEqualTo("pwned").contains("Messages");
        scrollTo(By.id("raw-mime"));
        screenshot("markup-as-text");
        assertThat(browser.findElement(By.id("main")).getText()).doesNotContain("undefined");

        // the list, for a workspace key: its own mail, no workspace filter, the subject as text
        open("#/messages?recipient=markup-" + marker + "@example.org");
        WebElement row = waitFor(By.cssSelector("tr[data-id='" + id + "']"));
        assertThat(row.getText()).contains("<img src=x onerror=");
        assertThat(browser.findElements(By.name("workspace"))).isEmpty();
        assertThat(browser.findElements(By.cssSelector("main img, main script"))).isEmpty();
        // and still nothing after the page had time to load any image it might have made
        waitUntil(ExpectedConditions.jsReturnsValue("return document.readyState === 'complete' ? true : null"));
        assertThat(browser.executeScript("return window.__pwned === undefined")).isEqualTo(Boolean.TRUE);
    }

    @Test
    void aDeferredMessageIsRetriedNowFromItsPageAndDelivered() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> body = new HashMap<>(message("shop@w-messages.example", "retry-" + marker + "@example.org",
                "Retried " + marker));
        body.put("send_at", Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString());
        String id = submit(WORKSPACE, body);
        // as if its first attempt had been put off for an hour
        jdbc.update("update messages set status = 'DEFERRED', next_attempt_at = ? where id = ? and status = 'QUEUED'",
                java.sql.Timestamp.from(Instant.now().plus(1, ChronoUnit.HOURS)), UUID.fromString(id));
        assertThat(status(id)).isEqualTo("DEFERRED");

        signIn(key(WORKSPACE));
        open("#/messages/" + id);
        waitFor(By.cssSelector("button[data-action=retry]")).click();
        waitForText(By.cssSelector("dialog.confirm"), "Retry message");
        confirm();
        waitForNotice("Message " + id + " is due now");
        awaitStatus(id, "SENT");
        waitUntil(d -> {
            try {
                d.findElement(By.xpath("//button[normalize-space()='Refresh']")).click();
                return d.findElement(By.id("message-facts")).getText().contains("SENT") ? true : null;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return null; // the detail was drawn again between finding and reading it
            }
        });
        assertThat(eventTypes(id)).contains("operator.retry", "send");
    }

    @Test
    void aScheduledMessageIsCancelledFromItsPage() {
        String marker = UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> body = new HashMap<>(message("shop@w-messages.example", "later-" + marker + "@example.org",
                "Reminder " + marker));
        body.put("send_at", Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString());
        String id = submit(WORKSPACE, body);
        assertThat(status(id)).isEqualTo("QUEUED");

        signIn(key(WORKSPACE));
        open("#/messages/" + id);
        waitForText(By.id("message-facts"), "QUEUED");
        assertThat(browser.findElement(By.id("message-facts")).getText()).contains("Send at");
        assertThat(browser.findElements(By.cssSelector("button[data-action=retry]"))).isEmpty();
        waitFor(By.cssSelector("button[data-action=cancel]")).click();
        waitForText(By.cssSelector("dialog.confirm"), "Reminder " + marker);
        confirm();
        waitForNotice("Cancelled message " + id);
        assertThat(status(id)).isEqualTo("CANCELLED");
        waitForText(By.id("message-facts"), "CANCELLED");
        waitFor(By.cssSelector("#message-events li[data-event='operator.cancel']"));
        assertThat(browser.findElements(By.cssSelector("button[data-action=cancel]"))).isEmpty();
        assertThat(eventTypes(id)).contains("operator.cancel").doesNotContain("send");
    }

    private void scrollTo(By by) {
        browser.executeScript("arguments[0].scrollIntoView({block: 'start'})", browser.findElement(by));
    }
}
