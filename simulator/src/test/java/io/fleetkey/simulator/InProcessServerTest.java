package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.fleetkey.simulator.report.Operation;
import io.fleetkey.simulator.report.Outcome;
import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.ReportJson;
import io.fleetkey.simulator.report.RunReport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server inside the simulator's process: the newcomer's demo (a small fleet on every door,
 * one revoked device per door cut off), and a storm during which the simulator restarts it.
 */
class InProcessServerTest {
    private static final Path SERVER_JAR = Path.of("..", "server", "target", "fleetkey-server.jar");

    @TempDir
    Path temp;

    @Test
    void the_demo_enrolls_renews_and_shows_a_revoked_device_cut_off_on_every_door() {
        requireServerJar();
        Path reportDir = temp.resolve("demo-report");
        CliRun run = CliRun.of(Map.of(), "demo", "--server-jar", SERVER_JAR.toString(), "--report-dir",
                reportDir.toString());
        String printed = run.out();
        System.out.print(printed);

        assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
        assertThat(printed).contains("Server up in", "30 devices, a third on each door", "Renewal wave: 30 enrolled devices",
                "Revocation: 3 devices", "Report written to", "Stopping the server");
        assertThat(printed).containsPattern("revoked device demo-\\S+ on HTTPS: cut off")
                .containsPattern("revoked device demo-\\S+ on CoAP: cut off")
                .containsPattern("revoked device demo-\\S+ on MQTT: cut off");
        assertThat(reportDir.resolve(ReportFiles.HTML)).isRegularFile();
    }

    @Test
    void devices_that_fail_while_the_server_restarts_enroll_once_it_is_back() throws Exception {
        requireServerJar();
        Path reportDir = temp.resolve("restart-report");
        CliRun run = CliRun.of(Map.of(), "storm", "--in-process-server", "--server-jar", SERVER_JAR.toString(),
                    "--doors", "https=1,coap=1,mqtt=1", "--devices", "240", "--concurrency", "8",
                    "--restart-server-after", "3s", "--baseline", "0", "--group", "restart", "--max-failures", "100%",
                    "--report-dir", reportDir.toString());
        String printed = run.out();
        System.out.print(printed);

        assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
        assertThat(printed).contains("Stopping the server...", "The server is back, and the server up on every door",
                "After the server restart:");
        RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
        assertEveryDeviceEnrolledThrough(report, "server restart", 240, printed);
    }

    @Test
    void devices_that_fail_while_the_mosquitto_broker_restarts_enroll_once_it_is_back_and_renew_through_it()
            throws Exception {
        requireServerJar();
        if (MosquittoBroker.findBinary().isEmpty()) {
            if (System.getenv("CI") != null) {
                fail("mosquitto is required in CI (Debian: apt-get install mosquitto)");
            }
            Assumptions.abort("mosquitto is not installed (Debian: apt-get install mosquitto)");
        }
        Path reportDir = temp.resolve("broker-report");
        CliRun run = CliRun.of(Map.of(), "storm", "--in-process-server", "--server-jar", SERVER_JAR.toString(),
                    "--mosquitto", "--doors", "mqtt", "--devices", "120", "--concurrency", "8", "--renew",
                    "--revoke", "10%", "--restart-broker-after", "2s", "--baseline", "0", "--group", "broker",
                    "--max-failures", "100%", "--report-dir", reportDir.toString());
        String printed = run.out();
        System.out.print(printed);

        assertThat(run.status()).as(run.printed()).isEqualTo(SimulatorCli.OK);
        assertThat(printed).contains("Stopping the MQTT broker...", "After the MQTT broker restart:");
        RunReport report = ReportJson.read(Files.readString(reportDir.resolve(ReportFiles.JSON)));
        assertEveryDeviceEnrolledThrough(report, "MQTT broker restart", 120, printed);
        // Renewal through Mosquitto: the device's certificate on the broker's certificate listener, a
        // statement signed with its current key in the CSR for the server.
        assertThat(succeeded(report, Operation.RENEW)).isEqualTo(120);
        assertThat(succeeded(report, Operation.CUT_OFF)).isEqualTo(12);
    }

    /** The restart is the run's one fault, it ended, and every device enrolled at first boot or on its retry. */
    private static void assertEveryDeviceEnrolledThrough(RunReport report, String fault, long devices, String printed) {
        assertThat(report.faults()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(fault);
            assertThat(f.endSecond()).isNotNull();
            assertThat(f.notRecovered()).as(printed).isZero();
        });
        assertThat(succeeded(report, Operation.ENROLL) + succeeded(report, Operation.RECONNECT))
                .as("every device enrolled, at first boot or after the restart").isEqualTo(devices);
    }

    private static long succeeded(RunReport report, Operation operation) {
        return report.series().stream().filter(s -> s.operation() == operation)
                .mapToLong(s -> s.count(Outcome.SUCCEEDED)).sum();
    }

    private static void requireServerJar() {
        if (!Files.isRegularFile(SERVER_JAR)) {
            if (System.getenv("CI") != null) {
                fail(SERVER_JAR + " is missing; the reactor builds the server before the simulator");
            }
            Assumptions.abort("build the server first: mvn -pl server -am package -DskipTests");
        }
    }
}
