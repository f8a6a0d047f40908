package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import io.fleetkey.server.enrollment.ChainRefusal;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.testing.Json;
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

    /** Issuance and revocation take the same row lock: no renewal can leave a good certificate behind. */
    @Test
    void renewals_racing_a_revocation_leave_no_good_certificate() throws Exception {
        KeyPair keys = TestPki.p256();
        X509Certificate cert = enroll("meter-0004", keys);
        HttpClient client = server.client(keys, server.withIssuingCa(cert));
        AtomicInteger issued = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<List<Integer>>> renewals = new ArrayList<>();
        try {
            for (int t = 0; t < 6; t++) {
                renewals.add(pool.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        int status = server.est(client, "simplereenroll", TestPki.csr("meter-0004", TestPki.p256()),
                                null, null).statusCode();
                        statuses.add(status);
                        if (status == 200) {
                            issued.incrementAndGet();
                        }
                    }
                    return statuses;
                }));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> issued.get() >= 3);
            revoke("meter-0004");
            for (Future<List<Integer>> f : renewals) {
                assertThat(f.get()).allMatch(status -> status == 200 || status == 403);
            }
        } finally {
            pool.shutdownNow();
        }

        var detail = Json.parse(server.api("GET", "/api/v1/devices/meter-0004", null).body());
        assertThat(detail.get("status").asText()).isEqualTo("REVOKED");
        assertThat(detail.get("certificates").size()).isEqualTo(1 + issued.get());
        detail.get("certificates").forEach(c -> assertThat(c.get("status").asText())
                .as("certificate %s", c.get("serial").asText()).isEqualTo("REVOKED"));
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
