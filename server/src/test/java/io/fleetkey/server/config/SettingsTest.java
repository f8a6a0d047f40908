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
                "fleetkey.coaps.port", "0",
                "fleetkey.mqtt.embedded.enabled", "false",
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

    @Test
    void a_coaps_block_size_that_is_not_a_power_of_two_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.coaps.preferred-block-size", "100")).close())
                .hasStackTraceContaining("must be a power of two from 16 to 1024");
    }

    @Test
    void a_coaps_port_out_of_range_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(Map.of("fleetkey.data-dir", dataDir.toString(),
                "fleetkey.mqtt.embedded.enabled", "false", "fleetkey.coaps.port", "70000")).close())
                .hasStackTraceContaining("Coaps.port - must be less than or equal to 65535");
    }

    @Test
    void a_coaps_port_in_use_stops_start_up_with_what_to_do() throws Exception {
        try (java.net.DatagramSocket taken = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> ApplicationContext.run(Map.of("fleetkey.data-dir", dataDir.toString(),
                    "fleetkey.mqtt.embedded.enabled", "false", "fleetkey.coaps.bind-address", "127.0.0.1",
                    "fleetkey.coaps.port", Integer.toString(taken.getLocalPort()))).close())
                    .hasStackTraceContaining("UDP port " + taken.getLocalPort())
                    .hasStackTraceContaining("FLEETKEY_COAPS_PORT");
        }
    }

    @Test
    void a_connection_id_longer_than_16_bytes_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.coaps.connection-id-length", "17")).close())
                .hasStackTraceContaining("connectionIdLength");
    }

    @Test
    void mqtt_settings_are_bound_from_their_variables_names() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of(
                "fleetkey.data-dir", dataDir.toString(), "fleetkey.coaps.port", "0",
                "fleetkey.mqtt.embedded.enabled", "false",
                "fleetkey.mqtt.embedded.tls-port", "18883",
                "fleetkey.mqtt.embedded.client-authentication", "REQUIRED",
                "fleetkey.mqtt.embedded.allow-plain-devices", "true"))) {
            FleetkeyConfiguration.Mqtt.Embedded mqtt = ctx.getBean(FleetkeyConfiguration.class).getMqtt().getEmbedded();
            assertThat(mqtt.getPort()).isEqualTo(1883);
            assertThat(mqtt.getBindAddress()).isEqualTo("127.0.0.1");
            assertThat(mqtt.getTlsPort()).isEqualTo(18883);
            assertThat(mqtt.getClientAuthentication()).isEqualTo("REQUIRED");
            assertThat(mqtt.isAllowPlainDevices()).isTrue();
        }
    }

    @Test
    void an_unknown_mqtt_client_authentication_mode_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.mqtt.embedded.client-authentication", "NONE"))
                .close()).hasStackTraceContaining("must be OPTIONAL or REQUIRED");
    }

    /** Checked before HiveMQ starts (it would only log it), so this costs no broker start. */
    @Test
    void an_mqtt_port_in_use_stops_start_up_with_what_to_do() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int freePort = free.getLocalPort();
            free.close();
            assertThatThrownBy(() -> ApplicationContext.run(Map.of("fleetkey.data-dir", dataDir.toString(),
                    "fleetkey.coaps.port", "0", "fleetkey.mqtt.embedded.port", Integer.toString(freePort),
                    "fleetkey.mqtt.embedded.tls-bind-address", "127.0.0.1",
                    "fleetkey.mqtt.embedded.tls-port", Integer.toString(taken.getLocalPort()))).close())
                    .hasStackTraceContaining("TCP port " + taken.getLocalPort() + " on 127.0.0.1 is not available")
                    .hasStackTraceContaining("FLEETKEY_MQTTS_PORT");
        }
    }

    @Test
    void the_same_port_for_both_mqtt_listeners_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(Map.of("fleetkey.data-dir", dataDir.toString(),
                "fleetkey.coaps.port", "0", "fleetkey.mqtt.embedded.port", "18884",
                "fleetkey.mqtt.embedded.tls-port", "18884")).close())
                .hasStackTraceContaining("need two ports");
    }

    private Map<String, Object> with(String key, String value) {
        return Map.of("fleetkey.data-dir", dataDir.toString(), "fleetkey.coaps.port", "0",
                "fleetkey.mqtt.embedded.enabled", key.startsWith("fleetkey.mqtt.") ? "true" : "false", key, value);
    }

    @Test
    void crl_settings_are_bound_with_their_defaults() {
        try (ApplicationContext ctx = ApplicationContext.run(with("fleetkey.crl.next-update", "7d"))) {
            FleetkeyConfiguration.Crl crl = ctx.getBean(FleetkeyConfiguration.class).getCrl();
            assertThat(crl.getNextUpdate()).isEqualTo(Duration.ofDays(7));
            assertThat(crl.getRepublishEvery()).isEqualTo(Duration.ofHours(1));
        }
    }

    @Test
    void a_crl_republished_no_sooner_than_it_lapses_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(Map.of("fleetkey.data-dir", dataDir.toString(),
                "fleetkey.coaps.port", "0", "fleetkey.mqtt.embedded.enabled", "false",
                "fleetkey.crl.next-update", "2h", "fleetkey.crl.republish-every", "2h")).close())
                .hasStackTraceContaining("fleetkey.crl.republish-every (FLEETKEY_CRL_REPUBLISH_EVERY) is 2h but must be "
                        + "shorter than fleetkey.crl.next-update (FLEETKEY_CRL_NEXT_UPDATE), 2h");
    }

    @Test
    void a_crl_validity_that_is_not_positive_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.crl.next-update", "0s")).close())
                .hasStackTraceContaining("fleetkey.crl.next-update (FLEETKEY_CRL_NEXT_UPDATE) must be positive");
    }

    @Test
    void ocsp_settings_are_bound_with_their_defaults() {
        try (ApplicationContext ctx = ApplicationContext.run(with("fleetkey.ocsp.cache-time", "0s"))) {
            FleetkeyConfiguration.Ocsp ocsp = ctx.getBean(FleetkeyConfiguration.class).getOcsp();
            assertThat(ocsp.getCacheTime()).isZero();
            assertThat(ocsp.getNextUpdate()).isEqualTo(Duration.ofHours(1));
            assertThat(ocsp.getSignerValidity()).isEqualTo(Duration.ofDays(30));
            assertThat(ocsp.getSignerRenewBefore()).isEqualTo(Duration.ofDays(7));
            assertThat(ocsp.getMaxRequestBytes()).isEqualTo(16384);
            assertThat(ocsp.getMaxCertificates()).isEqualTo(20);
        }
    }

    @Test
    void an_ocsp_cache_time_not_shorter_than_next_update_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.ocsp.cache-time", "2h")).close())
                .hasStackTraceContaining("fleetkey.ocsp.cache-time (FLEETKEY_OCSP_CACHE_TIME) is 2h but must be 0 or "
                        + "more and shorter than fleetkey.ocsp.next-update (FLEETKEY_OCSP_NEXT_UPDATE), 1h");
    }

    @Test
    void an_ocsp_signer_renewed_later_than_a_response_lives_is_refused() {
        assertThatThrownBy(() -> ApplicationContext.run(with("fleetkey.ocsp.signer-renew-before", "30m")).close())
                .hasStackTraceContaining("fleetkey.ocsp.signer-renew-before (FLEETKEY_OCSP_SIGNER_RENEW_BEFORE) is 30m "
                        + "but must be longer than fleetkey.ocsp.next-update");
    }

    @Test
    void a_profile_with_an_unknown_extended_key_usage_is_refused() {
        ProfileConfiguration p = new ProfileConfiguration("odd");
        p.setExtendedKeyUsages(List.of("codeSigning"));
        assertThatThrownBy(p::toProfile).hasMessageContaining("allowed values are clientAuth and serverAuth");
    }
}
