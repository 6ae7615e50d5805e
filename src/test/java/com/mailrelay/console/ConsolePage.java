package com.mailrelay.console;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in the browser of {@link BrowserSupport}, for a test class that cannot extend it
 * because it needs a relay of its own (ConsoleRoutesBrowserTest runs in the route-file tests'
 * relay, where uploads are on): the same browser (started and stopped with BrowserSupport's own
 * methods) and the same steps, by composition.
 */
final class ConsolePage {

    private final int port;
    private final String testName;

    ConsolePage(int port, String testName) {
        this.port = port;
        this.testName = testName;
    }

    static void startBrowser() throws IOException {
        BrowserSupport.startBrowser();
    }

    static void stopBrowser() {
        BrowserSupport.stopBrowser();
    }

    ChromeDriver browser() {
        return BrowserSupport.browser;
    }

    /** A fresh start: laptop width, no cookies of an earlier test. */
    void fresh() {
        browser().manage().window().setSize(new Dimension(1280, 900));
        browser().get(url("/console/"));
        browser().manage().deleteAllCookies();
        browser().get("about:blank");
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    void open(String hash) {
        browser().get("about:blank");
        browser().get(url("/console/" + hash));
    }

    void signIn(String key) {
        open("#/overview");
        WebElement input = waitFor(By.name("key"));
        input.clear();
        input.sendKeys(key);
        browser().findElement(By.cssSelector("form.sign-in button[type=submit]")).click();
        waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("nav")));
    }

    WebElement waitFor(By by) {
        return waitUntil(ExpectedConditions.visibilityOfElementLocated(by));
    }

    <T> T waitUntil(Function<? super WebDriver, T> condition) {
        return new WebDriverWait(browser(), Duration.ofSeconds(20)).pollingEvery(Duration.ofMillis(100)).until(condition);
    }

    void waitForText(By by, String text) {
        waitUntil(ExpectedConditions.textToBePresentInElementLocated(by, text));
    }

    void confirm() {
        waitFor(By.cssSelector("dialog.confirm [data-confirm]")).click();
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("dialog.confirm")));
    }

    void waitForNotice(String text) {
        waitForText(By.id("notices"), text);
    }

    Path screenshot(String name) {
        try {
            Files.createDirectories(BrowserSupport.SCREENSHOTS);
            Path file = BrowserSupport.SCREENSHOTS.resolve(testName + "-" + name + ".png");
            Files.write(file, browser().getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The page at phone width (390 px) with the element in view, then back to the laptop's width. */
    void screenshotAtPhoneWidth(String name, By inView) {
        browser().manage().window().setSize(new Dimension(390, 844));
        browser().executeScript("arguments[0].scrollIntoView({block: 'start'})", browser().findElement(inView));
        screenshot(name);
        browser().manage().window().setSize(new Dimension(1280, 900));
    }
}
