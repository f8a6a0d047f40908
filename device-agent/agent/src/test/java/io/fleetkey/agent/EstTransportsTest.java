package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.fleetkey.protocol.FailureCode;
import org.junit.jupiter.api.Test;

/** The CoAP and MQTT transports without a server: addresses, timeouts, answers, no files written. */
class EstTransportsTest {
    private final TestPki pki = new TestPki("Transports");

    @Test
    void coaps_addresses_must_be_coaps_and_get_the_default_port() throws Exception {
        assertThatThrownBy(() -> new EstCoapsClient(URI.create("coap://localhost"), List.of(pki.root), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("coaps://");
        try (EstCoapsClient client = new EstCoapsClient(URI.create("coaps://localhost/"), List.of(pki.root), null)) {
            assertThat(client.endpoint()).isEqualTo("coaps://localhost:" + EstCoapsClient.DEFAULT_PORT);
        }
    }

    @Test
    void a_silent_coaps_server_is_a_timeout_and_californium_writes_no_properties_file() throws Exception {
        Path workingDirectory = Path.of("").toAbsolutePath();
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             EstCoapsClient client = new EstCoapsClient(URI.create("coaps://127.0.0.1:" + silent.getLocalPort()),
                     List.of(pki.root), null, Duration.ofSeconds(2))) {
            long start = System.nanoTime();
            assertThatThrownBy(client::caCertificates).isInstanceOf(SocketTimeoutException.class)
                    .hasMessageContaining("within 2 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
        try (var files = Files.list(workingDirectory)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("Californium"));
        }
    }

    @Test
    void mqtt_addresses_must_be_tls_and_the_identity_must_be_the_device() throws Exception {
        assertThatThrownBy(() -> new EstMqttClient(URI.create("tcp://localhost:1883"), "dev-1", List.of(pki.root), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ssl://");
        assertThat(new EstMqttClient(URI.create("mqtts://broker.example"), "dev-1", List.of(pki.root), null).endpoint())
                .isEqualTo("ssl://broker.example:" + EstMqttClient.DEFAULT_PORT);
        assertThatThrownBy(() -> new EstMqttClient(URI.create("ssl://localhost"), "dev/1", List.of(pki.root), null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void coap_and_mqtt_codes_become_http_like_statuses() {
        EstException e = EstException.ofCoapStatus("CoAP", "4.03", FailureCode.TOKEN_USED, "spent");
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.wireStatus()).isEqualTo("CoAP 4.03");
        assertThat(e.code()).contains(FailureCode.TOKEN_USED);
        assertThat(e.getMessage()).isEqualTo("CoAP 4.03 TOKEN_USED: spent");
        assertThat(EstException.ofCoapStatus("MQTT", "5.03", null, "busy").status()).isEqualTo(503);
        assertThat(EstException.ofCoapStatus("MQTT", "x", null, "odd").status()).isZero();
    }

    @Test
    void a_nonce_answer_is_read_and_checked() {
        FreshnessNonce nonce = FreshnessNonce.fromJson("{\"nonce\":\"abc_-1\",\"expiry\":600}");
        assertThat(nonce.value()).isEqualTo("abc_-1");
        assertThat(nonce.expiry()).isEqualTo(Duration.ofMinutes(10));
        assertThatThrownBy(() -> FreshnessNonce.fromJson("{\"expiry\":600}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FreshnessNonce.fromJson("not json")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_token_travels_as_the_csr_challenge_password() throws Exception {
        var keys = KeyFiles.generateKeyPair();
        var csr = new org.bouncycastle.pkcs.PKCS10CertificationRequest(KeyFiles.certificationRequest(keys, "dev-1",
                List.of(KeyFiles.challengePassword("tok-1"))));
        var attributes = csr.getAttributes(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        assertThat(attributes).hasSize(1);
        assertThat(((org.bouncycastle.asn1.ASN1String) attributes[0].getAttrValues().getObjectAt(0)).getString())
                .isEqualTo("tok-1");
        assertThatThrownBy(() -> KeyFiles.challengePassword("")).isInstanceOf(IllegalArgumentException.class);
    }
}
