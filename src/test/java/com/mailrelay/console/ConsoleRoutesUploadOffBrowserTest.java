package com.mailrelay.console;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Routes page of a relay without relay.routes.upload-enabled (the default): the files and
 * routes are shown, and instead of an editor the page says how to turn editing on.
 */
class ConsoleRoutesUploadOffBrowserTest extends BrowserSupport {

    @Test
    void withoutUploadThePageListsTheRoutesAndSaysHowToTurnEditingOn() {
        signIn(ADMIN_KEY);
        open("#/routes");
        WebElement off = waitFor(By.id("routes-upload-off"));
        assertThat(off.getText()).contains("relay.routes.upload-enabled: true").contains("restart");
        assertThat(browser.findElements(By.id("route-editor-text"))).isEmpty();
        assertThat(browser.findElements(By.cssSelector("button[data-edit]"))).isEmpty();
        assertThat(waitFor(By.cssSelector("#route-files tr[data-file='w.camel.yaml']")).getText())
                .contains("chain-w").contains("loaded");
        // the relay's own routes are listed too, a page at a time
        browser.findElement(By.name("route-id")).sendKeys("deliver");
        assertThat(waitFor(By.cssSelector("#route-list tr[data-route='deliver']")).getText()).contains("java")
                .contains("Started");
        screenshot("upload-off");
    }
}
