package io.fleetkey.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.micronaut.context.ApplicationContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings bind into their nested groups and bad values stop start-up with a message saying what to change. */
class SettingsTest {
    @TempDir
    Path dataDir;

    @Test
    void nested_settings_are_bound() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of(
                "fleetkey.data-dir", dataDir.toString(),
                "fleetkey.enrollment.token-validity", "1h",
                "fleetkey.ca.issuing-curve", "P-384",
                "fleetkey.tls.hostnames", "a.example,10.0.0.1"))) {
            FleetkeyConfiguration config = ctx.getBean(FleetkeyConfiguration.class);
            assertThat(config.getEnrollment().getTokenValidity()).isEqualTo(Duration.ofHours(1));
            assertThat(config.getCa().getIssuingCurve()).isEqualTo("P-384");
            assertThat(config.getTls().getHostnames()).isEqualTo(List.of("a.example", "10.0.0.1"));
        }
    }

    @Test
    void an_unknown_curve_is_refused_with_the_allowed_values() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.ca.issuing-curve", "P-521")).close())
                .hasStackTraceContaining("must be P-256 or P-384");
    }

    @Test
    void a_weak_rsa_minimum_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.min-rsa-bits", "1024")).close())
                .hasStackTraceContaining("must be 2048 or more");
    }

    private Map<String, Object> with(String key, String value) {
        return Map.of("fleetkey.data-dir", dataDir.toString(), key, value);
    }

    @Test
    void a_profile_with_an_unknown_extended_key_usage_is_refused() {
        ProfileConfiguration p = new ProfileConfiguration("odd");
        p.setExtendedKeyUsages(List.of("codeSigning"));
        assertThatThrownBy(p::toProfile).hasMessageContaining("allowed values are clientAuth and serverAuth");
    }
}
