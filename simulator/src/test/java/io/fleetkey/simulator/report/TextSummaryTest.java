package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextSummaryTest {
    @Test
    void the_summary_counts_outcomes_and_reasons_and_gives_throughput_and_percentiles_per_door_and_operation() {
        RunReport report = SampleRuns.realistic();
        RunReport.Series https = report.series().get(0);
        String text = TextSummary.format(report);

        assertThat(text).startsWith("Run first-boot-storm: 39.60 s from 2026-11-27T15:00:00Z")
                .contains("  settings     devices=6000, doors=HTTPS 40%, CoAP 25%, MQTT 35%, ramp=150 devices/s",
                        "  operations   " + report.totalOperations(),
                        "  failed       181", "  not run      7 (time ran out)",
                        "  HTTPS enroll" + System.lineSeparator() + "    succeeded " + https.count(Outcome.SUCCEEDED)
                                + "   refused " + https.count(Outcome.REFUSED) + "   failed 0   not run 0",
                        "      refused TOKEN_USED  " + https.refusals().get("TOKEN_USED")
                                + "   e.g. the enrollment token was already used",
                        "      failed  IO:ConnectException  180   e.g. Connection refused",
                        String.format(java.util.Locale.ROOT, "    latency ms   p50 %.1f   p90 %.1f   p99 %.1f   max %.1f",
                                https.latency().p50Ms(), https.latency().p90Ms(), https.latency().p99Ms(),
                                https.latency().maxMs()),
                        "  fault broker-restart (the embedded MQTT broker stopped and started again): 15.0 s to 19.0 s, ",
                        "failures during it {",  "MQTT enroll=180",
                        "612 recovered, 3 not recovered; sessions reconnected and enrolled within 6 s",
                        "  baseline sign+verify P-256: 4878.0/s on 2 threads");
    }

    @Test
    void a_run_without_successes_says_no_latency_was_measured() {
        RunRecorder run = SampleRuns.recorder(new java.util.concurrent.atomic.AtomicLong());
        run.series(Door.MQTT, Operation.ENROLL).notRun(10);
        assertThat(TextSummary.format(run.finish())).contains("not run      10 (time ran out)",
                "    throughput   0.0/s", "    latency ms   none measured");
    }
}
