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
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("enroll-storm", "factory");
    }

    @Test
    void factory_help_is_the_factory_usage() {
        assertThat(cli.run(new String[]{"factory", "init", "--help"})).isEqualTo(SimulatorCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("fleetkey-simulator factory <command>", "register");
    }

    @Test
    void an_unknown_scenario_names_both() {
        assertThat(cli.run(new String[]{"stampede"})).isEqualTo(SimulatorCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("use enroll-storm or factory");
    }
}
