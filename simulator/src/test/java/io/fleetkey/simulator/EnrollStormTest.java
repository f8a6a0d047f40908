package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.agent.EstException;
import io.fleetkey.protocol.FailureCode;
import org.junit.jupiter.api.Test;

class EnrollStormTest {
    @Test
    void failures_are_grouped_by_the_servers_code_or_status() {
        assertThat(EnrollStorm.failureKind(new EstException(403, FailureCode.TOKEN_USED, "used"))).isEqualTo("TOKEN_USED");
        assertThat(EnrollStorm.failureKind(new EstException(502, null, "bad gateway"))).isEqualTo("HTTP_502");
        assertThat(EnrollStorm.failureKind(new java.net.ConnectException())).isEqualTo("IO:ConnectException");
    }

    @Test
    void the_report_shows_the_settings_but_not_the_fleet_api_token() {
        EnrollStorm.Settings settings = new EnrollStorm.Settings(URI.create("https://localhost:8443"), List.of(),
                "secret-admin-token", 500, 8, "meters", Duration.ofMinutes(10));
        assertThat(settings.describe()).containsExactly(entry("server", "https://localhost:8443"),
                entry("devices", "500"), entry("concurrency", "8"), entry("group", "meters"), entry("timeout", "PT10M"));
        assertThat(settings.describe().toString()).doesNotContain("secret");
    }

    @Test
    void only_servers_on_this_machine_are_stormed() throws Exception {
        assertThat(SimulatorCli.loopbackServer("https://127.0.0.1:8443").getPort()).isEqualTo(8443);
        assertThatThrownBy(() -> SimulatorCli.loopbackServer("https://192.0.2.10:8443"))
                .isInstanceOf(UsageException.class).hasMessageContaining("not this machine");
        assertThatThrownBy(() -> SimulatorCli.loopbackServer("http://localhost:8443"))
                .isInstanceOf(UsageException.class).hasMessageContaining("https");
    }
}
