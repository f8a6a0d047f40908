package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ProgressLineTest {
    @Test
    void the_line_shows_done_failed_rate_and_time_left() {
        assertThat(ProgressLine.format(new RunRecorder.Progress(4_000, 37, 10.0), 10_000))
                .isEqualTo("10s  4000/10000 done  37 failed  400/s  ETA 15s");
        assertThat(ProgressLine.format(new RunRecorder.Progress(100, 0, 1.0), 100_000))
                .endsWith("ETA 16m39s");
        assertThat(ProgressLine.format(new RunRecorder.Progress(0, 0, 2.0), 10)).endsWith("0/s  ETA --");
        assertThat(ProgressLine.format(new RunRecorder.Progress(10, 1, 2.0), 10)).endsWith("ETA 0s");
        assertThat(ProgressLine.duration(7_380)).isEqualTo("2h03m");
    }

    @Test
    void on_a_terminal_the_line_is_redrawn_in_place_and_ended_once() throws Exception {
        String printed = run(true);
        assertThat(printed).startsWith("\r").endsWith(System.lineSeparator());
        assertThat(printed.chars().filter(c -> c == '\n').count()).isEqualTo(1);
        assertThat(printed).contains("50/50 done");
    }

    @Test
    void elsewhere_each_update_is_a_plain_line() throws Exception {
        String printed = run(false);
        assertThat(printed).doesNotContain("\r");
        assertThat(printed.lines().count()).isGreaterThanOrEqualTo(2);
        assertThat(printed.lines()).allMatch(line -> line.startsWith("  ") && line.contains("/50 done"));
        assertThat(printed.lines().reduce((a, b) -> b).orElseThrow()).contains("50/50 done");
    }

    private static String run(boolean terminal) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        RunRecorder run = SampleRuns.recorder(new AtomicLong());
        RunRecorder.SeriesRecorder https = run.series(Door.HTTPS, Operation.ENROLL);
        try (ProgressLine progress = ProgressLine.start(out, terminal, 50, run::progress, Duration.ofMillis(20))) {
            for (int i = 0; i < 50; i++) {
                https.succeeded(run.now());
                Thread.sleep(2);
            }
            Thread.sleep(60);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
