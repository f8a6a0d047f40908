package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentSettingsTest {
    @TempDir
    Path dir;

    @Test
    void the_environment_overrides_the_file_and_options_override_both() throws Exception {
        Path file = Files.writeString(dir.resolve("agent.conf"), """
                # the device's settings
                door = mqtt
                server = https://fleetkey.example.com:8443
                attestation.software-version = 2.4.1
                renew-at = 0.75
                """);
        AgentSettings settings = AgentSettings.load(file, Map.of(
                "FLEETKEY_AGENT_ATTESTATION_SOFTWARE_VERSION", "2.5.0", "PATH", "/usr/bin"));
        assertThat(settings.get("door")).contains("mqtt");
        assertThat(settings.get("attestation.software-version")).contains("2.5.0");
        assertThat(settings.sourceOf("attestation.software-version"))
                .isEqualTo("the environment variable FLEETKEY_AGENT_ATTESTATION_SOFTWARE_VERSION");
        assertThat(settings.sourceOf("server")).isEqualTo(file.toString());
        assertThat(settings.renewalPolicy().share()).isEqualTo(0.75);
        assertThat(settings.with(Map.of("door", "coaps"), "--door").get("door")).contains("coaps");
        assertThat(settings.get("device-id")).isEmpty();
    }

    @Test
    void typos_and_bad_values_are_refused_with_their_source() throws Exception {
        Path file = Files.writeString(dir.resolve("agent.conf"), "sever = https://x\n");
        assertThatThrownBy(() -> AgentSettings.load(file, Map.of()))
                .hasMessageContaining("unknown keys [sever]");
        assertThatThrownBy(() -> AgentSettings.load(null, Map.of("FLEETKEY_AGENT_DORE", "https")))
                .hasMessageContaining("FLEETKEY_AGENT_DORE names no setting");
        AgentSettings bad = AgentSettings.load(null, Map.of("FLEETKEY_AGENT_RENEW_AT", "2",
                "FLEETKEY_AGENT_RETRY_MAX", "soon"));
        assertThatThrownBy(bad::renewalPolicy).hasMessageContaining("renew-at is '2' in the environment variable "
                + "FLEETKEY_AGENT_RENEW_AT");
        assertThatThrownBy(() -> bad.duration("retry-max", Duration.ZERO)).hasMessageContaining("30s or 1h");
        assertThatThrownBy(() -> AgentSettings.load(dir.resolve("missing.conf"), Map.of()))
                .hasMessageContaining("does not exist");
    }

    @Test
    void durations_read_with_their_unit() throws Exception {
        AgentSettings s = AgentSettings.load(null, Map.of("FLEETKEY_AGENT_RETRY_MIN", "45s",
                "FLEETKEY_AGENT_RETRY_MAX", "2h", "FLEETKEY_AGENT_RENEW_JITTER", "0m"));
        RenewalPolicy p = s.renewalPolicy();
        assertThat(p.minBackoff()).isEqualTo(Duration.ofSeconds(45));
        assertThat(p.maxBackoff()).isEqualTo(Duration.ofHours(2));
        assertThat(p.maxJitter()).isZero();
    }
}
