package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium against the running farm: builds submitted while the
 * page is open appear and their platform chips turn green without a reload, the build page shows
 * each platform's log, and its cancel button cancels. Screenshots go to target/dashboard-*.png.
 */
class DashboardTest {

    private static final String URL = "http://" + Farm.HTTP + "/dashboard/";
    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
    private static WebDriver browser;

    @TempDir Path temp;

    @BeforeAll
    static void openBrowser() {
        ChromeOptions options = new ChromeOptions()
                .setBinary(Path.of("/usr/bin/chromium").toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).build();
        browser = new ChromeDriver(service, options);
        // The token a user would paste at the page's first prompt, kept where the page keeps it.
        browser.get(URL + "style.css");
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "localStorage.setItem('buildfarm_token', arguments[0])", Farm.TOKEN);
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private static WebDriverWait waitUpTo(Duration timeout) {
        WebDriverWait wait = new WebDriverWait(browser, timeout, Duration.ofMillis(250));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return wait;
    }

    /**
     * Every chip under {@code css}, read in one script call: the event stream may re-render a row
     * between two WebDriver calls, which would leave a found element stale.
     */
    @SuppressWarnings("unchecked")
    private static List<Map<String, String>> chips(String css) {
        return (List<Map<String, String>>) ((JavascriptExecutor) browser).executeScript(
                "return [...document.querySelectorAll(arguments[0] + ' .chip')].map(c => ({"
                        + "platform: c.dataset.platform, state: c.dataset.state, text: c.innerText,"
                        + "color: getComputedStyle(c).backgroundColor}));", css);
    }

    private static List<String> chipStates(String css) {
        return chips(css).stream().map(c -> c.get("state")).toList();
    }

    /** Clicks what {@code css} finds, finding it again if a re-render replaced it. */
    private static void click(String css) {
        waitUpTo(Duration.ofSeconds(30)).until(b -> {
            b.findElement(By.cssSelector(css)).click();
            return true;
        });
    }

    @Test
    void aBuildSubmittedWhileWatchingAppearsTurnsGreenLiveAndShowsItsLog() throws Exception {
        browser.get(URL);
        waitUpTo(Duration.ofSeconds(20)).until(b -> b.findElement(By.id("live")).getText().equals("live"));
        assertThat(browser.findElements(By.cssSelector("#agents .agent tr[data-platform]"))).isNotEmpty();

        GitFixtures.Repo repo = GitFixtures.publish(Farm.EXAMPLES);
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("dashboard-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .setDockerfileDirectory("hello")
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(Farm.REGISTRY + "/e2e/dashboard-" + UUID.randomUUID().toString().substring(0, 8))
                        .addTags("v1"))
                .build());
        String row = "tr[data-build='" + build.getName() + "']";

        // No reload from here on: the row and its chips change through the event stream alone.
        waitUpTo(Duration.ofSeconds(30)).until(b -> !b.findElements(By.cssSelector(row)).isEmpty());
        waitUpTo(Duration.ofMinutes(10)).until(b -> chipStates(row).equals(List.of("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED")));
        waitUpTo(Duration.ofSeconds(30)).until(b -> "SUCCEEDED".equals(b.findElement(By.cssSelector(row)).getAttribute("data-state")));
        List<Map<String, String>> chips = chips(row);
        assertThat(chips).extracting(c -> c.get("platform")).containsExactlyElementsOf(PLATFORMS);
        assertThat(chips.get(0).get("text")).contains("linux/amd64").contains("pushed").contains("native");
        assertThat(chips.get(3).get("text")).contains("emulated");
        assertThat(chips.get(0).get("color")).isEqualTo("rgb(26, 127, 55)"); // green
        screenshot("dashboard-builds");

        click(row + " a");
        waitUpTo(Duration.ofSeconds(30)).until(b -> b.findElement(By.cssSelector("pre[data-platform='linux/arm64']")).getText().contains("Step 1/"));
        assertThat(browser.findElement(By.cssSelector("pre[data-platform='linux/amd64']")).getText()).contains("pushed ");
        waitUpTo(Duration.ofSeconds(30)).until(b -> !b.findElement(By.id("cancel")).isEnabled());
        screenshot("dashboard-build");
    }

    @Test
    void theCancelButtonCancelsARunningBuild() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("slow"));
        Files.writeString(dir.resolve("Dockerfile"), "FROM " + Farm.REGISTRY + "/library/busybox:latest\n"
                + "RUN echo dashboard-started && sleep 300\n");
        Cli.Result submitted = Cli.run("build", dir.toString(), "--platform", "linux/amd64",
                "-t", Farm.REGISTRY + "/e2e/dashboard-cancel:never");
        assertThat(submitted.exitCode()).as(submitted.err()).isZero();
        String name = submitted.out().lines().filter(l -> l.startsWith("builds/")).findFirst().orElseThrow();

        browser.get(URL + "#/builds/" + name.substring("builds/".length()));
        waitUpTo(Duration.ofMinutes(3)).until(b -> b.findElement(By.cssSelector("pre[data-platform='linux/amd64']"))
                .getText().contains("dashboard-started"));
        click("#cancel");

        waitUpTo(Duration.ofSeconds(30)).until(b -> b.findElement(By.id("build-state")).getText().equals("CANCELLED"));
        waitUpTo(Duration.ofSeconds(30)).until(b -> chipStates("#build-chips").equals(List.of("CANCELLED")));
        assertThat(Farm.builds().getBuild(dev.buildfarm.api.v1.GetBuildRequest.newBuilder().setName(name).build()).getState())
                .isEqualTo(Build.State.CANCELLED);
        screenshot("dashboard-cancelled");
    }

    private static void screenshot(String name) throws Exception {
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Path target = Files.createDirectories(Path.of("target")).resolve(name + ".png");
        Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
    }
}
