package com.mailrelay.console;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Overview: a message sent over REST during the test is counted (the sent counter goes up, and
 * the data tables of the charts show it in its minute and its hour, in total and for its
 * provider); a workspace session's Overview shows that workspace's figures only.
 */
class ConsoleOverviewBrowserTest extends BrowserSupport {

    private static final String WORKSPACE = "w-overview";

    @Test
    void aMessageSentDuringTheTestIsCountedOnTheOverview() {
        signIn(ADMIN_KEY);
        open("#/overview");
        // the admin narrows the overview to one workspace with the scope form
        WebElement scope = waitFor(By.name("workspace"));
        scope.sendKeys(WORKSPACE);
        browser.findElement(By.cssSelector("form.overview-scope button[type=submit]")).click();
        waitForText(By.tagName("h1"), "Overview of workspace " + WORKSPACE);
        waitForText(By.id("overview-updated"), "Updated");
        long before = counter("hour-sent");

        String id = submit(WORKSPACE, message("ops@overview.test", "overview-" + System.nanoTime() + "@customer.test",
                "Counted on the overview"));
        awaitStatus(id, "SENT");
        Instant sentAt = jdbc.queryForObject("select created_at from events where message_id = ? and type = 'send'",
                Timestamp.class, UUID.fromString(id)).toInstant();

        // the page refreshes by itself: the counter goes up without a reload
        waitUntil(d -> counter("hour-sent") == before + 1);
        assertThat(counter("day-sent")).isGreaterThanOrEqualTo(before + 1);
        assertThat(counter("hour-accepted")).isGreaterThanOrEqualTo(1);

        // the charts' numbers: the minute and the hour of the send, as many as the database holds
        Instant minute = sentAt.truncatedTo(ChronoUnit.MINUTES);
        Instant hour = sentAt.truncatedTo(ChronoUnit.HOURS);
        browser.findElement(By.cssSelector("#throughput-minute summary")).click();
        browser.findElement(By.cssSelector("#throughput-hour summary")).click();
        assertThat(cell("#throughput-minute-data", minute, "sent")).isEqualTo(sends(minute, minute.plus(1, ChronoUnit.MINUTES)));
        assertThat(cell("#throughput-hour-data", hour, "sent")).isEqualTo(sends(hour, hour.plus(1, ChronoUnit.HOURS)));
        // and the small chart of the provider it went through (test-routes/w.camel.yaml: default)
        WebElement provider = waitFor(By.cssSelector("#overview-providers article[data-provider=default]"));
        provider.findElement(By.tagName("summary")).click();
        assertThat(cell("#overview-providers article[data-provider=default]", hour, "sent"))
                .isEqualTo(sends(hour, hour.plus(1, ChronoUnit.HOURS)));
        assertThat(browser.findElement(By.id("overview-status")).getText()).containsAnyOf("Operational", "Degraded", "Down");
        browser.manage().window().setSize(new Dimension(1280, 2200));
        browser.executeScript("window.scrollTo(0, 0)");
        screenshot("laptop");

        browser.manage().window().setSize(new Dimension(390, 844));
        waitUntil(d -> browser.findElement(By.cssSelector("#throughput-minute-chart canvas")).getSize().getWidth() < 390);
        browser.executeScript("window.scrollTo(0, 0)");
        screenshot("phone");
        browser.executeScript("document.getElementById('throughput-minute').scrollIntoView()");
        screenshot("phone-chart");
    }

    @Test
    void aWorkspaceSessionSeesOnlyItsWorkspacesFigures() {
        String id = submit(WORKSPACE, message("ops@overview.test", "own-" + System.nanoTime() + "@customer.test",
                "Its own figures"));
        awaitStatus(id, "SENT");
        signIn(key(WORKSPACE));
        open("#/overview");
        waitForText(By.tagName("h1"), "Overview of workspace " + WORKSPACE);
        waitForText(By.id("overview-updated"), "Updated");
        // no choice of workspace, and no component details (the admin's only)
        assertThat(browser.findElements(By.name("workspace"))).isEmpty();
        assertThat(browser.findElement(By.id("overview-status")).getText()).contains("shown to the admin only");

        // the day's sends are the workspace's, not the relay's
        Instant dayAgo = Instant.now().minus(1, ChronoUnit.DAYS);
        waitUntil(d -> counter("day-sent") == sends(dayAgo, Instant.now().plusSeconds(1)));
        long own = counter("day-sent");
        long everyone = jdbc.queryForObject("select count(*) from events where type = 'send' and created_at >= ?",
                Long.class, Timestamp.from(dayAgo));
        assertThat(own).isPositive().isLessThanOrEqualTo(everyone);
        // the provider cards are those of its own mail only
        List<String> providers = browser.findElements(By.cssSelector("#overview-providers article[data-provider]"))
                .stream().map(e -> e.getAttribute("data-provider")).toList();
        List<String> ownProviders = jdbc.queryForList("select distinct coalesce(m.provider_id, 'none') from events e"
                + " join messages m on m.id = e.message_id where e.workspace_id = ? and e.created_at >= ?",
                String.class, WORKSPACE, Timestamp.from(dayAgo));
        assertThat(providers).containsExactlyInAnyOrderElementsOf(ownProviders);
        // the stats it reads are scoped by the server, whatever the page asks
        Map<String, Object> foreign = fetchFromPage("GET", "/api/v1/stats?workspace=acme", null, false);
        assertThat(foreign.get("status")).isEqualTo(403L);
        screenshot("workspace");
    }

    /** A counter of the page, e.g. hour-sent, as a number. */
    private long counter(String name) {
        return number("[data-stat='" + name + "'] dd");
    }

    /** The number an element shows, read in one script (the page redraws its figures every 10 s). */
    private long number(String selector) {
        String text = waitUntil(d -> (String) browser.executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector));
        return Long.parseLong(text.replaceAll("[^0-9]", ""));
    }

    /** A number of a chart's data table: the row of the bucket that starts at start, the column of outcome. */
    private long cell(String container, Instant start, String outcome) {
        String iso = start.toString().replace("Z", ".000Z");
        return number(container + " tr[data-start='" + iso + "'] td[data-outcome=" + outcome + "]");
    }

    /** Send events of the workspace written in [from, to). */
    private long sends(Instant from, Instant to) {
        return jdbc.queryForObject("select count(*) from events where workspace_id = ? and type = 'send'"
                + " and created_at >= ? and created_at < ?", Long.class, WORKSPACE, Timestamp.from(from), Timestamp.from(to));
    }
}
