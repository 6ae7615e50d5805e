package com.mailrelay.console;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Providers page (admin): every provider the API lists, a page at a time, with its breaker
 * state; the Test button probes a provider and shows the outcome; a provider's own page shows its
 * facts and, given an address, sends that address one test message through the provider (the
 * upstream receives it). A workspace session is not offered the page.
 */
class ConsoleProvidersBrowserTest extends BrowserSupport {

    private static final int PAGE_SIZE = 20;

    @Test
    @SuppressWarnings("unchecked")
    void theProvidersAreListedWithTheirBreakerState() {
        signIn(ADMIN_KEY);
        List<Map<String, Object>> listed = (List<Map<String, Object>>) read(get(ADMIN_KEY, "/api/v1/providers").body())
                .get("providers");
        open("#/providers");
        waitFor(By.cssSelector("#providers-list tr[data-provider]"));
        assertThat(browser.findElement(By.id("providers-summary")).getText()).startsWith(listed.size() + " provider(s)");
        // the first page, in the API's order, each with its breaker state
        List<String> rows = browser.findElements(By.cssSelector("#providers-list tr[data-provider]")).stream()
                .map(r -> r.getAttribute("data-provider")).toList();
        assertThat(rows).containsExactlyElementsOf(listed.stream().limit(PAGE_SIZE).map(p -> (String) p.get("id")).toList());
        for (Map<String, Object> provider : listed.subList(0, rows.size())) {
            String state = (String) ((Map<String, Object>) provider.get("breaker")).get("state");
            String shown = browser.findElement(By.cssSelector("[data-breaker='" + provider.get("id") + "'] .badge")).getText();
            assertThat(shown).as("breaker of %s", provider.get("id"))
                    .isEqualTo(state == null ? "no calls yet" : state.replace('_', ' '));
        }
        if (listed.size() > PAGE_SIZE) {
            browser.findElement(By.xpath("//button[text()='Next page']")).click();
            waitFor(By.cssSelector("#providers-list tr[data-provider='" + listed.get(PAGE_SIZE).get("id") + "']"));
        }
        // the filter narrows the list (to the ids and types that contain the text)
        browser.findElement(By.name("filter")).sendKeys("acme-transactional");
        waitUntil(d -> browser.findElements(By.cssSelector("#providers-list tr[data-provider]")).size() == 1);
        assertThat(browser.findElement(By.cssSelector("#providers-list tr[data-provider]")).getAttribute("data-provider"))
                .isEqualTo("acme-transactional");
        browser.findElement(By.name("filter")).clear();
        browser.findElement(By.name("filter")).sendKeys("d");
        browser.findElement(By.name("filter")).sendKeys(org.openqa.selenium.Keys.BACK_SPACE);
        waitUntil(d -> browser.findElements(By.cssSelector("#providers-list tr[data-provider]")).size()
                == Math.min(PAGE_SIZE, listed.size()));
        browser.manage().window().setSize(new Dimension(1280, 1600));
        screenshot("laptop");
        browser.manage().window().setSize(new Dimension(390, 844));
        screenshot("phone");
    }

    @Test
    void theTestButtonShowsTheProbeResult() {
        signIn(ADMIN_KEY);
        open("#/providers");
        waitFor(By.name("filter")).sendKeys("default");
        WebElement row = waitFor(By.cssSelector("#providers-list tr[data-provider=default]"));
        row.findElement(By.cssSelector("[data-test-provider=default]")).click();
        waitForText(By.cssSelector("[data-provider-result=default] [data-result=probe]"), "ok");
        waitForNotice("Tested provider default: probe ok");
        // the row's last probe is the one just made
        waitForText(By.cssSelector("tr[data-provider=default] [data-fact=last-probe]"), "ok");
        screenshot("tested");
    }

    @Test
    void aProvidersPageSendsATestMessageThroughItAlone() throws MessagingException {
        signIn(ADMIN_KEY);
        open("#/providers");
        waitFor(By.name("filter")).sendKeys("default");
        waitFor(By.cssSelector("#providers-list tr[data-provider=default] a")).click();
        WebElement card = waitFor(By.cssSelector("article[data-provider=default]"));
        assertThat(card.getText()).contains("Breaker", "Breaker transitions", "Quotas", "Last probe");

        String to = "provider-test-" + System.nanoTime() + "@customer.test";
        card.findElement(By.name("to")).sendKeys(to);
        card.findElement(By.cssSelector("[data-test-provider=default]")).click();
        confirm();
        waitForText(By.cssSelector("[data-provider-result=default] [data-result=send]"), "sent");
        waitForText(By.cssSelector("[data-provider-result=default] [data-result=probe]"), "ok");
        GreenMail upstream = Upstreams.greenMail("default");
        await().atMost(Duration.ofSeconds(10)).until(() -> !to(upstream, to).isEmpty());
        MimeMessage received = to(upstream, to).get(0);
        assertThat(received.getHeader("X-Mail-Relay-Test")).containsExactly("default");
        // the card's last success is that message's
        waitForText(By.cssSelector("article[data-provider=default] [data-fact=last-success]"), "250");
        browser.manage().window().setSize(new Dimension(1280, 1500));
        browser.executeScript("window.scrollTo(0, 0)");
        screenshot("laptop");
        browser.manage().window().setSize(new Dimension(390, 844));
        browser.executeScript("window.scrollTo(0, 0)");
        screenshot("phone");
    }

    @Test
    void aWorkspaceSessionIsNotOfferedTheProviders() {
        signIn(key("w-overview"));
        assertThat(browser.findElement(By.cssSelector("#nav a[data-page=providers]")).isDisplayed()).isFalse();
        open("#/providers");
        waitForText(By.id("main"), "managed with the admin key");
        assertThat(browser.findElements(By.cssSelector("[data-test-provider]"))).isEmpty();
    }

    private static List<MimeMessage> to(GreenMail upstream, String address) {
        return Arrays.stream(upstream.getReceivedMessages()).filter(m -> {
            try {
                return m.getRecipients(Message.RecipientType.TO) != null
                        && Arrays.stream(m.getRecipients(Message.RecipientType.TO)).anyMatch(a -> a.toString().contains(address));
            } catch (MessagingException e) {
                return false;
            }
        }).toList();
    }
}
