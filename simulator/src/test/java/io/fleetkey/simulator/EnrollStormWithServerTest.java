package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.fleetkey.simulator.report.Door;
import io.fleetkey.simulator.report.Operation;
import io.fleetkey.simulator.report.Outcome;
import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.ReportJson;
import io.fleetkey.simulator.report.RunReport;
import io.fleetkey.simulator.testing.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small enroll-storm against a real server (its jar, as its own process), with the report written to a folder. */
class EnrollStormWithServerTest {
    private static final String ADMIN_TOKEN = "storm-test-admin-token-0123456789";
    private static final Map<String, String> ENV = Map.of(SimulatorCli.ADMIN_TOKEN_ENV, ADMIN_TOKEN);

    @TempDir
    Path temp;

    @Test
    void a_storm_records_every_enrollment_and_writes_its_report() throws Exception {
        try (ServerProcess server = ServerProcess.start(temp, ADMIN_TOKEN)) {
            Path reportDir = temp.resolve("report");
            CliRun run = CliRun.of(ENV, "enroll-storm", "--server", server.base(), "--ca-cert",
                    server.chain().toString(), "--devices", "40", "--concurrency", "4", "--group", "storm",
                    "--report-dir", reportDir.toString());
            String printed = run.out();

            assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
            assertThat(printed).contains("Run enroll-storm:", "  succeeded    40", "  HTTPS enroll",
                    "40/40 done  0 failed", "Report written to");
            RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
            assertThat(report.scenario()).isEqualTo("enroll-storm");
            assertThat(report.settings()).containsEntry("devices", "40").containsEntry("group", "storm");
            assertThat(Files.readString(reportDir.resolve(ReportFiles.JSON))).doesNotContain(ADMIN_TOKEN);
            assertThat(report.series()).hasSize(1);
            RunReport.Series enroll = report.series().get(0);
            assertThat(enroll.door()).isEqualTo(Door.HTTPS);
            assertThat(enroll.operation()).isEqualTo(Operation.ENROLL);
            assertThat(enroll.count(Outcome.SUCCEEDED)).isEqualTo(40);
            assertThat(report.totalUnsuccessful()).isZero();
            assertThat(enroll.latency().count()).isEqualTo(40);
            assertThat(enroll.latency().p50Ms()).isPositive();
            assertThat(enroll.timeline().succeeded().stream().mapToLong(Long::longValue).sum()).isEqualTo(40);
            assertThat(Files.readString(reportDir.resolve(ReportFiles.HTML)))
                    .contains("<svg id=\"throughput-chart\"", "<svg id=\"latency-chart\"", "data-series=\"HTTPS enroll\"");
            assertThat(Files.readString(reportDir.resolve(ReportFiles.TEXT))).contains("  succeeded    40");
        }
    }
}
