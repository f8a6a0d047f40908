package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;

import io.fleetkey.server.enrollment.ChainRefusal;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A revoked device gets nothing more over EST/HTTPS: not with its unused enrollment token, not
 * with its revoked certificate on simpleenroll or simplereenroll; and the screening that DTLS and
 * MQTT handshakes ask turns its certificate away as revoked.
 */
class RevokedDeviceEnrollmentIT {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup("meters", "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void a_revoked_device_cannot_enroll_with_its_unused_token() {
        String token = server.registerDevice("meter-0001", "meters");
        revoke("meter-0001");

        HttpResponse<String> r = server.est(server.client(), "simpleenroll", TestPki.csr("meter-0001", TestPki.p256()),
                "meter-0001", token);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Fleetkey-Error")).hasValue("DEVICE_REVOKED");
        assertThat(r.body()).contains("device 'meter-0001' is revoked and cannot enroll");
    }

    @Test
    void a_revoked_certificate_renews_nothing() {
        KeyPair keys = TestPki.p256();
        X509Certificate cert = enroll("meter-0002", keys);
        revoke("meter-0002");

        HttpResponse<String> reenroll = server.est(server.client(keys, server.withIssuingCa(cert)), "simplereenroll",
                TestPki.csr("meter-0002", TestPki.p256()), null, null);
        HttpResponse<String> enroll = server.est(server.client(keys, server.withIssuingCa(cert)), "simpleenroll",
                TestPki.csr("meter-0002", TestPki.p256()), null, null);

        for (HttpResponse<String> r : new HttpResponse[]{reenroll, enroll}) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
            assertThat(r.headers().firstValue("Fleetkey-Error")).hasValue("DEVICE_REVOKED");
            assertThat(r.body()).contains("'meter-0002' is revoked");
        }
    }

    @Test
    void a_revoked_certificate_does_not_pass_the_handshake_screening() {
        KeyPair keys = TestPki.p256();
        X509Certificate cert = enroll("meter-0003", keys);
        EnrollmentService enrollment = server.context().getBean(EnrollmentService.class);
        assertThat(enrollment.screenClientChain(server.withIssuingCa(cert))).isEmpty();

        revoke("meter-0003");

        assertThat(enrollment.screenClientChain(server.withIssuingCa(cert))).hasValueSatisfying(refusal -> {
            assertThat(refusal.kind()).isEqualTo(ChainRefusal.Kind.REVOKED);
            assertThat(refusal.reason()).contains("meter-0003");
        });
        assertThat(enrollment.screenDeviceWithoutCertificate("meter-0003")).hasValue("device 'meter-0003' is revoked");
    }

    private static X509Certificate enroll(String deviceId, KeyPair keys) {
        String token = server.registerDevice(deviceId, "meters");
        return TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", TestPki.csr(deviceId, keys),
                deviceId, token));
    }

    private static void revoke(String deviceId) {
        HttpResponse<String> r = server.api("POST", "/api/v1/devices/" + deviceId + "/revoke",
                "{\"reason\":\"keyCompromise\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
