package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import io.fleetkey.protocol.Base64Body;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.DeviceRepository;
import io.fleetkey.server.registry.DeviceStatus;
import io.fleetkey.server.registry.EnrollmentToken;
import io.fleetkey.server.registry.TokenRepository;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import io.fleetkey.server.util.Digests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad EST request gets its precise status and a readable reason — never a 500,
 * a stack trace or a silent drop — over real HTTPS against the real server.
 */
class EstBadInputIT {
    private static TestServer server;
    private static HttpClient client;
    private static int deviceCounter;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup("sensors", "device");
        client = server.client();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static synchronized String newDeviceId() {
        return "bad-input-" + (++deviceCounter);
    }

    private static HttpResponse<String> postRaw(String operation, String contentType, byte[] body, String user, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/.well-known/est/" + operation))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + token)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return server.send(client, b.build());
    }

    private static void assertRefused(HttpResponse<String> r, int status, String code, String reasonPart) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Fleetkey-Error")).hasValue(code);
        assertThat(r.body()).containsIgnoringCase(reasonPart).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void malformed_base64_is_refused_with_400() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = postRaw("simpleenroll", "application/pkcs10", "MIIB$$not*base64".getBytes(), id, token);
        assertRefused(r, 400, "MALFORMED_REQUEST", "not valid base64");
    }

    @Test
    void base64_that_is_not_der_is_refused_with_400() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] body = Base64Body.encode("this is not a certification request".getBytes()).getBytes();
        var r = postRaw("simpleenroll", "application/pkcs10", body, id, token);
        assertRefused(r, 400, "MALFORMED_REQUEST", "PKCS#10");
    }

    @Test
    void csr_with_a_bad_signature_is_refused_with_400() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csrWithForeignSignature(id), id, token);
        assertRefused(r, 400, "BAD_CSR_SIGNATURE", "proof of possession");
    }

    @Test
    void wrong_content_type_is_refused_with_415() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] body = Base64Body.encode(TestPki.csr(id, TestPki.p256())).getBytes();
        assertRefused(postRaw("simpleenroll", "application/json", body, id, token), 415, "UNSUPPORTED_MEDIA_TYPE",
                "application/pkcs10");
        assertRefused(postRaw("simpleenroll", "text/plain", body, id, token), 415, "UNSUPPORTED_MEDIA_TYPE",
                "application/pkcs10");
    }

    @Test
    void missing_content_type_is_refused_with_415() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] body = Base64Body.encode(TestPki.csr(id, TestPki.p256())).getBytes();
        assertRefused(postRaw("simplereenroll", null, body, id, token), 415, "UNSUPPORTED_MEDIA_TYPE", "none");
    }

    @Test
    void body_over_the_limit_is_refused_with_413() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] body = new byte[64 * 1024];
        java.util.Arrays.fill(body, (byte) 'A');
        assertRefused(postRaw("simpleenroll", "application/pkcs10", body, id, token), 413, "PAYLOAD_TOO_LARGE",
                "at most");
    }

    @Test
    void empty_body_is_refused_with_400() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        assertRefused(postRaw("simpleenroll", "application/pkcs10", new byte[0], id, token), 400,
                "MALFORMED_REQUEST", "empty");
    }

    @Test
    void unknown_device_is_refused_with_403() {
        var r = server.est(client, "simpleenroll", TestPki.csr("nobody-knows-me", TestPki.p256()), "nobody-knows-me", "x");
        assertRefused(r, 403, "UNKNOWN_DEVICE", "not registered");
    }

    @Test
    void wrong_token_is_refused_with_401() {
        String id = newDeviceId();
        server.registerDevice(id, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.p256()), id, "not-the-token");
        assertRefused(r, 401, "NOT_AUTHENTICATED", "token is not valid");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
    }

    @Test
    void malformed_authorization_header_is_refused_with_401() {
        String id = newDeviceId();
        byte[] body = Base64Body.encode(TestPki.csr(id, TestPki.p256())).getBytes();
        var r = server.send(client, HttpRequest.newBuilder(server.uri("/.well-known/est/simpleenroll"))
                .header("Content-Type", "application/pkcs10").header("Authorization", "Basic %%%")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertRefused(r, 401, "NOT_AUTHENTICATED", "HTTP Basic");
    }

    @Test
    void used_token_is_refused_with_403_for_a_new_key() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        TestServer.issuedCertificate(server.est(client, "simpleenroll", TestPki.csr(id, TestPki.p256()), id, token));
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.p256()), id, token);
        assertRefused(r, 403, "TOKEN_USED", "already used");
    }

    @Test
    void expired_token_is_refused_with_403() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        server.context().getBean(TokenRepository.class).put(new EnrollmentToken(id, Digests.sha256Hex(token),
                Instant.now().minusSeconds(1), null, null));
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.p256()), id, token);
        assertRefused(r, 403, "TOKEN_EXPIRED", "expired");
    }

    @Test
    void cn_of_another_device_is_refused_with_403() {
        String id = newDeviceId();
        String other = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        server.registerDevice(other, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csr(other, TestPki.p256()), id, token);
        assertRefused(r, 403, "SUBJECT_MISMATCH", "not the authenticated device");
    }

    @Test
    void csr_without_cn_is_refused_with_400() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csr("O=Acme", TestPki.p256(), List.of()), id, token);
        assertRefused(r, 400, "MALFORMED_REQUEST", "exactly one CN");
    }

    @Test
    void weak_rsa_key_is_refused_naming_the_key() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.rsa(1024)), id, token);
        assertRefused(r, 400, "KEY_NOT_ALLOWED", "RSA 1024-bit");
    }

    @Test
    void ec_key_on_a_weak_curve_is_refused_naming_the_curve() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.ec("secp192r1")), id, token);
        assertRefused(r, 400, "KEY_NOT_ALLOWED", "secp192r1");
    }

    @Test
    void allowed_key_types_are_issued() {
        for (KeyPair keys : List.of(TestPki.ec("secp384r1"), TestPki.ed25519(), TestPki.rsa(2048))) {
            String id = newDeviceId();
            String token = server.registerDevice(id, "sensors");
            X509Certificate cert = TestServer.issuedCertificate(server.est(client, "simpleenroll", TestPki.csr(id, keys), id, token));
            assertThat(cert.getPublicKey().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
        }
    }

    @Test
    void revoked_device_is_refused_with_403() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        server.context().getBean(DeviceRepository.class).updateStatus(id, DeviceStatus.REVOKED);
        var r = server.est(client, "simpleenroll", TestPki.csr(id, TestPki.p256()), id, token);
        assertRefused(r, 403, "DEVICE_REVOKED", "revoked");
    }

    @Test
    void revoked_device_cannot_reenroll() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        KeyPair keys = TestPki.p256();
        X509Certificate cert = TestServer.issuedCertificate(server.est(client, "simpleenroll", TestPki.csr(id, keys), id, token));
        server.context().getBean(DeviceRepository.class).updateStatus(id, DeviceStatus.REVOKED);
        var r = server.est(server.client(keys, server.withIssuingCa(cert)), "simplereenroll",
                TestPki.csr(id, TestPki.p256()), null, null);
        assertRefused(r, 403, "DEVICE_REVOKED", "revoked");
    }

    @Test
    void reenroll_without_a_client_certificate_is_refused_with_401() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var r = server.est(client, "simplereenroll", TestPki.csr(id, TestPki.p256()), id, token);
        assertRefused(r, 401, "NOT_AUTHENTICATED", "current Fleetkey certificate");
    }

    @Test
    void reenroll_for_another_device_is_refused_with_403() {
        String id = newDeviceId();
        String other = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        server.registerDevice(other, "sensors");
        KeyPair keys = TestPki.p256();
        X509Certificate cert = TestServer.issuedCertificate(server.est(client, "simpleenroll", TestPki.csr(id, keys), id, token));
        var r = server.est(server.client(keys, server.withIssuingCa(cert)), "simplereenroll",
                TestPki.csr(other, TestPki.p256()), null, null);
        assertRefused(r, 403, "SUBJECT_MISMATCH", "differs from the authenticated device");
    }

    @Test
    void client_certificate_from_an_unknown_ca_is_refused_with_401() {
        String id = newDeviceId();
        server.registerDevice(id, "sensors");
        server.api("PATCH", "/api/v1/groups/sensors", "{\"makerCas\":[\"" + pem(TestPki.ca("Trusted Maker").certificate()) + "\"]}");
        TestPki.Ca rogue = TestPki.ca("Rogue Maker");
        KeyPair keys = TestPki.p256();
        X509Certificate idevid = rogue.issue("CN=" + id, keys, Duration.ofDays(30));
        var r = server.est(server.client(keys, List.of(idevid)), "simpleenroll", TestPki.csr(id, TestPki.p256()), null, null);
        assertRefused(r, 401, "UNTRUSTED_CLIENT_CERTIFICATE", "not a factory identity");
    }

    @Test
    void retry_of_the_same_csr_returns_the_same_certificate() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] csr = TestPki.csr(id, TestPki.p256());
        X509Certificate first = TestServer.issuedCertificate(server.est(client, "simpleenroll", csr, id, token));
        X509Certificate again = TestServer.issuedCertificate(server.est(client, "simpleenroll", csr, id, token));
        assertThat(again).isEqualTo(first);
        assertThat(server.context().getBean(CertificateRepository.class).forDevice(id)).hasSize(1);
    }

    @Test
    void every_issued_certificate_is_in_the_registry() {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        X509Certificate cert = TestServer.issuedCertificate(server.est(client, "simpleenroll",
                TestPki.csr(id, TestPki.p256()), id, token));
        var stored = server.context().getBean(CertificateRepository.class).find(cert.getSerialNumber().toString(16));
        assertThat(stored).isPresent();
        assertThat(stored.get().deviceId()).isEqualTo(id);
        assertThat(stored.get().der()).isEqualTo(io.fleetkey.protocol.Certificates.toDer(cert));
    }

    @Test
    void concurrent_requests_with_one_token_get_one_certificate() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        byte[] sameCsr = TestPki.csr(id, TestPki.p256());
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<HttpResponse<String>>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                answers.add(pool.submit(() -> server.est(client, "simpleenroll", sameCsr, id, token)));
            }
            java.util.Set<X509Certificate> certificates = new java.util.HashSet<>();
            for (var answer : answers) {
                certificates.add(TestServer.issuedCertificate(answer.get()));
            }
            assertThat(certificates).hasSize(1);
        } finally {
            pool.shutdown();
        }
        assertThat(server.context().getBean(CertificateRepository.class).forDevice(id)).hasSize(1);
    }

    @Test
    void concurrent_requests_with_one_token_and_different_keys_get_one_certificate() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<HttpResponse<String>>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] csr = TestPki.csr(id, TestPki.p256());
                answers.add(pool.submit(() -> server.est(client, "simpleenroll", csr, id, token)));
            }
            int ok = 0;
            for (var answer : answers) {
                HttpResponse<String> r = answer.get();
                if (r.statusCode() == 200) {
                    ok++;
                } else {
                    assertRefused(r, 403, "TOKEN_USED", "used");
                }
            }
            assertThat(ok).isEqualTo(1);
        } finally {
            pool.shutdown();
        }
        assertThat(server.context().getBean(CertificateRepository.class).forDevice(id)).hasSize(1);
    }

    private static String pem(X509Certificate c) {
        return io.fleetkey.protocol.Certificates.toPem(List.of(c)).replace("\r", "").replace("\n", "\\n");
    }
}
