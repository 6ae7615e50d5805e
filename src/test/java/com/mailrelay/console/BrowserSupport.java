package com.mailrelay.console;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Base of the console's browser tests: Debian's chromium, headless, driven through its
 * chromedriver (Selenium), against the relay of {@link RelayTestSupport}. Without chromium and
 * chromedriver the tests fail, never skip (.ci/run installs both). Each test leaves a screenshot of
 * its page in target/console-screenshots/ (also when it fails), kept as a build artifact.
 */
public abstract class BrowserSupport extends RelayTestSupport {

    public static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    protected static final String ADMIN_KEY = "admin-key";

    private static final String CHROMIUM = System.getProperty("relay.test.chromium",
            System.getenv().getOrDefault("RELAY_TEST_CHROMIUM", "/usr/bin/chromium"));
    private static final String CHROMEDRIVER = System.getProperty("relay.test.chromedriver",
            System.getenv().getOrDefault("RELAY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"));

    protected static ChromeDriver browser;
    private static Path profile;
    private String testName;

    @BeforeAll
    static void startBrowser() throws IOException {
        for (String binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            assertThat(new File(binary)).as("%s is needed by the console's browser tests: apt-get install chromium "
                    + "chromium-driver (.ci/run does), or point relay.test.chromium / relay.test.chromedriver at them",
                    binary).isFile();
            assertThat(new File(binary).canExecute()).as("%s is executable", binary).isTrue();
        }
        profile = Files.createTempDirectory("console-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--window-size=1280,900", "--lang=en-GB",
                "--user-data-dir=" + profile.toAbsolutePath());
        // The page's console messages, so that every test can check no policy blocked anything.
        org.openqa.selenium.logging.LoggingPreferences logs = new org.openqa.selenium.logging.LoggingPreferences();
        logs.enable(org.openqa.selenium.logging.LogType.BROWSER, java.util.logging.Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
            browser = null;
        }
    }

    @BeforeEach
    void freshBrowser(TestInfo info) {
        testName = getClass().getSimpleName() + "-" + info.getTestMethod().map(m -> m.getName()).orElse("test");
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 900));
        browser.get(url("/console/"));
        browser.manage().deleteAllCookies();
        browser.get("about:blank");
    }

    @AfterEach
    void screenshotAtEnd() {
        screenshot("end");
        // Nothing any page did was refused by its content security policy (an inline script or
        // style, something from elsewhere), and no script of the console failed.
        List<String> problems = browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll()
                .stream().map(org.openqa.selenium.logging.LogEntry::getMessage)
                .filter(m -> m.contains("Content Security Policy") || m.contains("Uncaught"))
                .toList();
        assertThat(problems).as("the browser's console").isEmpty();
    }

    /** Saves the page as target/console-screenshots/{Class}-{test}-{name}.png. */
    protected Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(testName + "-" + name + ".png");
            Files.write(file, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    protected String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /**
     * Loads the console afresh at a view, e.g. open("#/messages?status=SENT"): the page is loaded
     * again even when only its hash would differ, so it starts from the session cookie it has.
     */
    protected void open(String hash) {
        browser.get("about:blank");
        browser.get(url("/console/" + hash));
    }

    /** Signs in through the sign-in form and waits for the console's navigation. */
    protected void signIn(String key) {
        open("#/overview");
        WebElement input = waitFor(By.name("key"));
        input.clear();
        input.sendKeys(key);
        browser.findElement(By.cssSelector("form.sign-in button[type=submit]")).click();
        waitUntil(ExpectedConditions.visibilityOfElementLocated(By.id("nav")));
    }

    protected WebElement waitFor(By by) {
        return waitUntil(ExpectedConditions.visibilityOfElementLocated(by));
    }

    protected <T> T waitUntil(Function<? super WebDriver, T> condition) {
        return new WebDriverWait(browser, Duration.ofSeconds(20)).pollingEvery(Duration.ofMillis(100)).until(condition);
    }

    /** Waits until the element's text contains the given text. */
    protected void waitForText(By by, String text) {
        waitUntil(ExpectedConditions.textToBePresentInElementLocated(by, text));
    }

    /** Clicks the confirm button of the console's confirmation dialog. */
    protected void confirm() {
        waitFor(By.cssSelector("dialog.confirm [data-confirm]")).click();
        waitUntil(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("dialog.confirm")));
    }

    /** Waits for a notice (the live region) containing the given text. */
    protected void waitForNotice(String text) {
        waitForText(By.id("notices"), text);
    }

    /**
     * Calls the API from the page with the session's cookie, as the page's own script would;
     * csrf true sends the session's token. Returns {status, body}.
     */
    @SuppressWarnings("unchecked")
    protected Map<String, Object> fetchFromPage(String method, String path, String jsonBody, boolean csrf) {
        Object result = ((JavascriptExecutor) browser).executeAsyncScript("""
                const [method, path, body, csrf, done] = arguments;
                (async () => {
                  const headers = {'Content-Type': 'application/json'};
                  if (csrf) {
                    const s = await (await fetch('/console/session', {credentials: 'same-origin'})).json();
                    headers['X-CSRF-Token'] = s.csrf_token;
                  }
                  const r = await fetch(path, {method, headers, body: body === null ? undefined : body,
                                               credentials: 'same-origin'});
                  done({status: r.status, body: await r.text()});
                })().catch(e => done({status: -1, body: String(e)}));
                """, method, path, jsonBody, csrf);
        return (Map<String, Object>) result;
    }
}
