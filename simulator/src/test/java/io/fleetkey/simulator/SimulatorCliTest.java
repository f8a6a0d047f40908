package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SimulatorCliTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final SimulatorCli cli = new SimulatorCli(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());

    @Test
    void the_usage_names_the_storm_and_the_factory() {
        assertThat(cli.run(new String[]{"--help"})).isEqualTo(SimulatorCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("enroll-storm", "factory", "--report-dir DIR",
                "--max-failures T");
    }

    @Test
    void factory_help_is_the_factory_usage() {
        assertThat(cli.run(new String[]{"factory", "init", "--help"})).isEqualTo(SimulatorCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("fleetkey-simulator factory <command>", "register");
    }

    @Test
    void a_wrong_failure_threshold_or_report_folder_is_a_usage_error_before_anything_runs() throws Exception {
        assertThat(cli.run(new String[]{"enroll-storm", "--max-failures", "ten"})).isEqualTo(SimulatorCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--max-failures 'ten' is not a failure threshold");
        java.nio.file.Path file = java.nio.file.Files.createTempFile("report", ".txt");
        try {
            assertThat(cli.run(new String[]{"enroll-storm", "--report-dir", file.toString()})).isEqualTo(SimulatorCli.USAGE);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("is a file, not a folder");
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void an_unknown_scenario_names_both() {
        assertThat(cli.run(new String[]{"stampede"})).isEqualTo(SimulatorCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("use enroll-storm or factory");
    }
}
