package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import io.fleetkey.simulator.report.Door;
import io.fleetkey.simulator.report.Operation;
import io.fleetkey.simulator.report.Outcome;
import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.ReportJson;
import io.fleetkey.simulator.report.RunReport;
import io.fleetkey.simulator.testing.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few hundred simulated devices, each run by the agent's own code, against a real server with
 * all three doors open: first boot spread over HTTPS, CoAP/DTLS and the embedded MQTT broker,
 * a renewal wave, and a tenth of the fleet revoked and checked to be turned away on its door.
 */
class FleetStormWithServerTest {
    private static final String ADMIN_TOKEN = "fleet-storm-test-admin-token-0123456789";
    private static final Map<String, String> ENV = Map.of(SimulatorCli.ADMIN_TOKEN_ENV, ADMIN_TOKEN);
    private static final int DEVICES = 300;

    @TempDir
    Path temp;

    @Test
    void a_mixed_fleet_enrolls_renews_churns_and_its_revoked_share_is_cut_off_on_every_door() throws Exception {
        try (ServerProcess server = ServerProcess.startWithAllDoors(temp, ADMIN_TOKEN)) {
            Path reportDir = temp.resolve("report");
            CliRun run = CliRun.of(ENV, "storm", "--server", server.base(), "--ca-cert", server.chain().toString(),
                        "--coap", server.coap(), "--mqtt", server.mqtt(), "--doors", "https=1,coap=1,mqtt=1",
                        "--devices", Integer.toString(DEVICES), "--concurrency", "16", "--renew", "--churn", "10%", "--revoke", "10%",
                        "--group", "fleet", "--timeout", "5m", "--baseline", "1s", "--report-dir", reportDir.toString());
            String printed = run.out();
            System.out.print(printed); // the run's own summary, for whoever reads the build log

            assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
            assertThat(printed).contains("Run storm:", "First boot: 300 devices", "Renewal wave: 300 enrolled devices",
                    "Churn: 15 devices come back after being away, 15 after a reset, 30 new devices join",
                    "Revocation: 30 devices", "Report written to");
            RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
            assertThat(report.scenario()).isEqualTo("storm");
            assertThat(report.settings()).containsEntry("devices", "300").containsEntry("revoked share", "10.0%");
            assertThat(report.totalUnsuccessful()).isZero();
            assertThat(report.baseline().perSecond()).isPositive();
            for (Door door : Door.values()) {
                assertThat(series(report, door, Operation.ENROLL).count(Outcome.SUCCEEDED)).as(door + " enroll")
                        .isEqualTo(DEVICES / 3);
                assertThat(series(report, door, Operation.RENEW).count(Outcome.SUCCEEDED)).as(door + " renew")
                        .isEqualTo(DEVICES / 3);
                // Churn: the leaving tenth is spread over the fleet, so over every door.
                assertThat(series(report, door, Operation.RECONNECT).count(Outcome.SUCCEEDED)).as(door + " back").isPositive();
                assertThat(series(report, door, Operation.REJOIN).count(Outcome.SUCCEEDED)).as(door + " reset").isPositive();
                assertThat(series(report, door, Operation.JOIN).count(Outcome.SUCCEEDED)).as(door + " join").isEqualTo(10);
                long revoked = series(report, door, Operation.REVOKE).count(Outcome.SUCCEEDED);
                assertThat(revoked).as(door + " revoked").isPositive();
                assertThat(series(report, door, Operation.CUT_OFF).count(Outcome.SUCCEEDED)).as(door + " cut off")
                        .isEqualTo(revoked);
                assertThat(series(report, door, Operation.ENROLL).latency().p99Ms()).isPositive();
            }
            assertThat(total(report, Operation.RECONNECT)).isEqualTo(15);
            assertThat(total(report, Operation.REJOIN)).isEqualTo(15);
            assertThat(total(report, Operation.CUT_OFF)).isEqualTo(30);
            assertThat(Files.readString(reportDir.resolve(ReportFiles.HTML)))
                    .contains("data-series=\"CoAP enroll\"", "data-series=\"MQTT re-enroll after reset\"", "data-series=\"MQTT renew\"", "data-series=\"HTTPS cut-off check\"");
        }
    }

    @Test
    void coap_devices_behind_a_lossy_slow_link_mostly_enroll_and_the_fault_is_reported() throws Exception {
        try (ServerProcess server = ServerProcess.startWithAllDoors(temp, ADMIN_TOKEN)) {
            Path reportDir = temp.resolve("lossy");
            CliRun run = CliRun.of(ENV, "storm", "--server", server.base(), "--ca-cert", server.chain().toString(),
                        "--coap", server.coap(), "--doors", "coap", "--devices", "60", "--concurrency", "12",
                        "--coap-loss", "5%", "--coap-delay", "20ms", "--baseline", "0", "--group", "lossy",
                        "--max-failures", "10%", "--report-dir", reportDir.toString());
            String printed = run.out();
            System.out.print(printed);

            assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
            RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
            // DTLS and CoAP retransmissions carry nearly every device through; one that still gets no
            // answer within its 30 s is reported as such, with the fault it happened under.
            RunReport.Series enroll = series(report, Door.COAP, Operation.ENROLL);
            assertThat(enroll.count(Outcome.SUCCEEDED)).isGreaterThanOrEqualTo(54);
            assertThat(enroll.count(Outcome.SUCCEEDED) + enroll.count(Outcome.FAILED)).isEqualTo(60);
            assertThat(report.faults()).singleElement().satisfies(fault -> {
                assertThat(fault.kind()).isEqualTo("CoAP link");
                assertThat(fault.detail()).contains("5.0% of datagrams lost each way, 20 ms delay");
                assertThat(fault.recovered()).isEqualTo(enroll.count(Outcome.SUCCEEDED));
                assertThat(fault.recovered() + fault.notRecovered()).isEqualTo(60);
                assertThat(fault.recovery()).containsPattern("\\d+ datagrams relayed, [1-9]\\d* dropped");
            });
            assertThat(report.baseline()).isNull();
        }
    }

    @Test
    void devices_with_factory_identities_prove_themselves_with_an_idevid_statement_on_every_door() throws Exception {
        try (ServerProcess server = ServerProcess.startWithAllDoors(temp, ADMIN_TOKEN)) {
            Path reportDir = temp.resolve("idevid-report");
            CliRun run = CliRun.of(ENV, "storm", "--server", server.base(), "--ca-cert", server.chain().toString(),
                        "--coap", server.coap(), "--mqtt", server.mqtt(), "--doors", "https=1,coap=1,mqtt=1",
                        "--devices", "60", "--concurrency", "8", "--first-boot", "idevid", "--renew",
                        "--group", "factory-made", "--timeout", "3m", "--baseline", "0s", "--report-dir", reportDir.toString());
            String printed = run.out();
            System.out.print(printed);

            assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
            assertThat(printed).contains("Made a maker CA and 60 factory identities (IDevIDs)",
                    "Created group 'factory-made' trusting the maker CA of the devices' factory identities");
            RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
            assertThat(report.settings()).containsEntry("first boot proof", "factory identity (IDevID) statement");
            assertThat(report.totalUnsuccessful()).isZero();
            for (Door door : Door.values()) {
                assertThat(series(report, door, Operation.ENROLL).count(Outcome.SUCCEEDED)).as(door + " enroll").isEqualTo(20);
                assertThat(series(report, door, Operation.RENEW).count(Outcome.SUCCEEDED)).as(door + " renew").isEqualTo(20);
            }

            // The group exists now: a second run with new IDevIDs must not quietly trust another maker CA.
            CliRun again = CliRun.of(ENV, "storm", "--server", server.base(), "--ca-cert", server.chain().toString(),
                        "--devices", "1", "--concurrency", "1", "--first-boot", "idevid", "--group", "factory-made",
                        "--baseline", "0s");
            assertThat(again.status()).as(again.printed()).isEqualTo(SimulatorCli.SETUP_FAILED);
            assertThat(again.printed()).contains("group 'factory-made' exists already", "pass a --group that does not exist yet");
        }
    }

    private static RunReport.Series series(RunReport report, Door door, Operation operation) {
        Optional<RunReport.Series> found = report.series().stream()
                .filter(s -> s.door() == door && s.operation() == operation).findFirst();
        assertThat(found).as(door.label() + " " + operation.label()).isPresent();
        return found.get();
    }

    /** Successes of one operation over every door. */
    private static long total(RunReport report, Operation operation) {
        return report.series().stream().filter(s -> s.operation() == operation)
                .mapToLong(s -> s.count(Outcome.SUCCEEDED)).sum();
    }
}
