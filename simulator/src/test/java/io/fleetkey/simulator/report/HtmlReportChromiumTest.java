package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the HTML report in headless Chromium (Debian package {@code chromium}), as a reader's
 * browser would with no network, and checks what it rendered: the DOM after parsing and a
 * screenshot. Skipped outside CI when Chromium is not installed; in CI a missing Chromium fails.
 */
class HtmlReportChromiumTest {
    private static final long TIMEOUT_SECONDS = 180;

    @TempDir
    Path dir;

    @Test
    void the_report_opens_in_chromium_with_its_charts_drawn() throws Exception {
        Path chromium = chromium();
        RunReport report = SampleRuns.realistic();
        List<Path> files = ReportFiles.write(dir.resolve("report"), report);
        Path html = files.get(1);
        assertThat(html.getFileName()).hasToString(ReportFiles.HTML);

        String dom = run(chromium, "--dump-dom", html.toUri().toString());
        assertThat(dom).contains("<svg id=\"throughput-chart\"", "<svg id=\"latency-chart\"", "id=\"reason-table\"",
                "id=\"fault-table\"", "data-series=\"MQTT enroll\"");
        assertThat(count(HtmlReportTest.element(dom, "throughput-chart"), "<polyline")).isEqualTo(report.series().size() + 1);
        assertThat(count(HtmlReportTest.element(dom, "latency-chart"), "<polyline")).isEqualTo(report.series().size());
        // The reason with markup stays text after the browser parsed it: no element came out of it.
        assertThat(dom).doesNotContain("<script").contains("&lt;script&gt;alert('x')&lt;/script&gt;");

        Path png = dir.resolve("report.png");
        run(chromium, "--screenshot=" + png, "--window-size=1200,1600", html.toUri().toString());
        assertThat(png).exists();
        assertThat(Files.size(png)).as("screenshot size").isGreaterThan(20_000);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1200);
        assertThat(image.getHeight()).isEqualTo(1600);
        // The chart lines are the only strongly coloured things on the page.
        assertThat(colouredPixels(image)).as("pixels of the chart lines").isGreaterThan(3_000);
    }

    private String run(Path chromium, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + dir.resolve("profile")));
        command.addAll(List.of(arguments));
        Path stdout = Files.createTempFile(dir, "chromium", ".out");
        Path stderr = Files.createTempFile(dir, "chromium", ".err");
        Process process = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        process.getOutputStream().close();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            fail("chromium did not finish in " + TIMEOUT_SECONDS + " s: " + String.join(" ", command));
        }
        if (process.exitValue() != 0) {
            fail(String.join(" ", command) + " exited " + process.exitValue() + ":\n" + Files.readString(stderr));
        }
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    private static long colouredPixels(BufferedImage image) {
        long count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 80) {
                    count++;
                }
            }
        }
        return count;
    }

    /** Chromium from the PATH, or the test is skipped (outside CI) or failed (in CI). */
    private static Path chromium() {
        Optional<Path> found = Optional.empty();
        for (String name : List.of("chromium", "chromium-browser")) {
            for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                Path candidate = Path.of(entry, name);
                if (found.isEmpty() && Files.isExecutable(candidate)) {
                    found = Optional.of(candidate);
                }
            }
        }
        if (found.isEmpty() && System.getenv("CI") == null) {
            Assumptions.abort("chromium is not installed (Debian: apt-get install chromium); skipped outside CI");
        }
        if (found.isEmpty()) {
            fail("chromium is required in CI to render the HTML report (Debian: apt-get install chromium)");
        }
        return found.get();
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            count++;
        }
        return count;
    }
}
