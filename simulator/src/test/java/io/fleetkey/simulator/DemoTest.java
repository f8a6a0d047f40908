package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.fleetkey.simulator.report.ReportFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The newcomer's first command: a server in this process, a small fleet on every door, one revoked device per door cut off. */
class DemoTest {
    private static final Path SERVER_JAR = Path.of("..", "server", "target", "fleetkey-server.jar");

    @TempDir
    Path temp;

    @Test
    void the_demo_enrolls_renews_and_shows_a_revoked_device_cut_off_on_every_door() {
        if (!Files.isRegularFile(SERVER_JAR)) {
            if (System.getenv("CI") != null) {
                fail(SERVER_JAR + " is missing; the reactor builds the server before the simulator");
            }
            Assumptions.abort("build the server first: mvn -pl server -am package -DskipTests");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path reportDir = temp.resolve("demo-report");
        int status = new SimulatorCli(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of())
                .run(new String[]{"demo", "--server-jar", SERVER_JAR.toString(), "--report-dir", reportDir.toString()});
        String printed = out.toString(StandardCharsets.UTF_8);
        System.out.print(printed);

        assertThat(status).as(printed + err.toString(StandardCharsets.UTF_8)).isEqualTo(SimulatorCli.OK);
        assertThat(printed).contains("Server up in", "30 devices, a third on each door", "Renewal wave: 30 enrolled devices",
                "Revocation: 3 devices", "Report written to", "Stopping the server");
        assertThat(printed).containsPattern("revoked device demo-\\S+ on HTTPS: cut off")
                .containsPattern("revoked device demo-\\S+ on CoAP: cut off")
                .containsPattern("revoked device demo-\\S+ on MQTT: cut off");
        assertThat(reportDir.resolve(ReportFiles.HTML)).isRegularFile();
    }
}
