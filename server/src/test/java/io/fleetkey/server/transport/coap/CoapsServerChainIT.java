package io.fleetkey.server.transport.coap;

import java.util.Map;

import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.TestServer;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.XECDHECryptography.SupportedGroup;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The certificates the DTLS server sends, and the paths around the four operations: with the
 * issuing CA left out, a device that offers only ecdsa_secp256r1_sha256 on P-256 (the RFC 7925
 * minimum) can connect, provided it holds the issuing CA.
 */
class CoapsServerChainIT {
    @Test
    void a_sha256_only_client_connects_when_the_server_sends_its_certificate_alone() throws Exception {
        try (TestServer server = TestServer.start(Map.of("fleetkey.coaps.send-issuing-ca", "false"));
             CoapsTestClient device = CoapsTestClient.to(server).dtls(d -> sha256Only(d, server)).build()) {
            CoapResponse crts = device.get(CoapsTestClient.EST + "crts", EstMediaTypes.COAP_PKCS7_CERTS_ONLY);
            assertThat(crts.getCode()).isEqualTo(ResponseCode.CONTENT);
        }
    }

    @Test
    void by_default_the_issuing_ca_travels_and_a_sha256_only_client_is_refused() {
        try (TestServer server = TestServer.start();
             CoapsTestClient device = CoapsTestClient.to(server).dtls(d -> sha256Only(d, server)).build()) {
            // The issuing CA is signed by the P-384 root with SHA-384, which this client did not offer.
            assertThatThrownBy(() -> device.get(CoapsTestClient.EST + "crts", EstMediaTypes.COAP_PKCS7_CERTS_ONLY))
                    .hasMessageContaining("HANDSHAKE_FAILURE");
        }
    }

    @Test
    void a_ca_label_is_accepted_and_a_mistyped_operation_gets_a_hint() throws Exception {
        try (TestServer server = TestServer.start(); CoapsTestClient device = CoapsTestClient.to(server).build()) {
            CoapResponse labelled = device.get(CoapsTestClient.EST + "factory-line-2/crts", EstMediaTypes.COAP_PKCS7_CERTS_ONLY);
            assertThat(labelled.getCode()).isEqualTo(ResponseCode.CONTENT);

            CoapResponse mistyped = device.get(CoapsTestClient.EST + "cacerts", -1);
            assertThat(mistyped.getCode()).isEqualTo(ResponseCode.NOT_FOUND);
            assertThat(mistyped.getResponseText()).contains("use crts, sen, sren or att");
        }
    }

    /** A P-256/SHA-256-only device; it trusts the issuing CA (a P-384 root could not even be configured). */
    private static void sha256Only(DtlsConnectorConfig.Builder dtls, TestServer server) {
        dtls.setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA)
                .setAsList(DtlsConfig.DTLS_CURVES, SupportedGroup.secp256r1)
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder()
                        .setTrustedCertificates(server.caChain().get(0)).build());
    }
}
