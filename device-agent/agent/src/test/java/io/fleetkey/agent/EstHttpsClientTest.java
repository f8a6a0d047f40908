package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpTimeoutException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLHandshakeException;

import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EstHttpsClientTest {
    private final TestPki pki = new TestPki("Test");
    private final FakeEstServer server = newServer();
    private final EstHttpsClient client = new EstHttpsClient(server.uri(), AgentTls.trusting(List.of(pki.root)));

    private FakeEstServer newServer() {
        try {
            return new FakeEstServer(pki).register("dev-1", "secret-token");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR for dev-1 with the token in its challengePassword, as the agent sends it on every door. */
    static byte[] csr(KeyPair keys, String token) {
        return KeyFiles.certificationRequest(keys, "dev-1", List.of(KeyFiles.challengePassword(token)));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void ca_certificates_come_from_a_server_the_explicit_anchor_trusts() throws Exception {
        // A certs-only PKCS#7 holds a DER SET, so the order on the wire is the encoding's, not the server's.
        assertThat(client.caCertificates()).containsExactlyInAnyOrder(pki.issuing, pki.root);
    }

    @Test
    void enrollment_with_a_valid_token_returns_the_certificate_for_the_csr_key() throws Exception {
        KeyPair keys = KeyFiles.generateKeyPair();
        X509Certificate issued = client.simpleEnroll(csr(keys, "secret-token"));
        assertThat(KeyFiles.certifies(issued, keys.getPublic())).isTrue();
        assertThat(DeviceIdentity.commonName(issued)).isEqualTo("dev-1");
    }

    @Test
    void enrollment_with_a_wrong_token_is_refused_with_status_code_and_reason() {
        byte[] csr = csr(KeyFiles.generateKeyPair(), "wrong");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.code()).contains(FailureCode.NOT_AUTHENTICATED);
                    assertThat(e.reason()).isEqualTo("the enrollment token is not valid");
                    assertThat(e.getMessage()).doesNotContain("wrong");
                });
    }

    @Test
    void a_spent_token_is_refused_for_another_key_but_returns_the_same_certificate_for_the_same_key() throws Exception {
        KeyPair keys = KeyFiles.generateKeyPair();
        byte[] csr = csr(keys, "secret-token");
        X509Certificate first = client.simpleEnroll(csr);
        assertThat(client.simpleEnroll(csr)).isEqualTo(first);
        byte[] other = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(other))
                .isInstanceOfSatisfying(EstException.class, e -> assertThat(e.code()).contains(FailureCode.TOKEN_USED));
    }

    @Test
    void a_refusal_without_failure_code_keeps_status_and_reason() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(503, Map.of(), "down for maintenance"));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.code()).isEmpty();
                    assertThat(e.reason()).isEqualTo("down for maintenance");
                });
    }

    @Test
    void an_unknown_failure_code_is_reported_as_no_code() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(403,
                Map.of("Fleetkey-Error", "SOMETHING_NEW"), "a newer server"));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.code()).isEmpty();
                });
    }

    @Test
    void a_reason_with_control_characters_is_made_printable_and_short() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(400,
                Map.of(), "bad\u001b[31m red\r\n" + "x".repeat(2000)));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.reason()).doesNotContain("\u001b").doesNotContain("\n").startsWith("bad [31m red x");
                    assertThat(e.reason().length()).isLessThan(500);
                });
    }

    @Test
    void accepted_for_approval_becomes_pending_with_the_retry_after() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(202,
                Map.of("Retry-After", "30", "Content-Type", "text/plain"), "waits for approval\n"));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EnrollmentPendingException.class, e -> {
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(30));
                    assertThat(e.reason()).isEqualTo("waits for approval");
                });
    }

    @Test
    void retry_after_reads_seconds_and_http_dates_and_falls_back_on_nonsense() {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        String inTwoMinutes = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(120).atZone(ZoneOffset.UTC));
        assertThat(EstHttpsClient.retryAfter(headers("Retry-After", "45"), now)).isEqualTo(Duration.ofSeconds(45));
        assertThat(EstHttpsClient.retryAfter(headers("Retry-After", inTwoMinutes), now)).isEqualTo(Duration.ofSeconds(120));
        assertThat(EstHttpsClient.retryAfter(headers("Retry-After", "soon"), now)).isEqualTo(EstHttpsClient.DEFAULT_RETRY_AFTER);
        assertThat(EstHttpsClient.retryAfter(headers("X-Other", "1"), now)).isEqualTo(EstHttpsClient.DEFAULT_RETRY_AFTER);
    }

    @Test
    void a_server_the_explicit_anchor_does_not_vouch_for_fails_the_handshake() {
        EstHttpsClient stranger = new EstHttpsClient(server.uri(), AgentTls.trusting(List.of(new TestPki("Other").root)));
        assertThatThrownBy(stranger::caCertificates).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void reenrollment_presents_the_current_certificate() throws Exception {
        KeyPair current = TestPki.newKeyPair();
        DeviceIdentity identity = new DeviceIdentity(current.getPrivate(),
                List.of(pki.issueClient(current.getPublic(), "dev-1"), pki.issuing));
        EstHttpsClient authenticated = new EstHttpsClient(server.uri(),
                AgentTls.trusting(List.of(pki.root), () -> identity));
        KeyPair fresh = KeyFiles.generateKeyPair();
        X509Certificate renewed = authenticated.simpleReenroll(KeyFiles.certificationRequest(fresh, "dev-1"));
        assertThat(KeyFiles.certifies(renewed, fresh.getPublic())).isTrue();
    }

    @Test
    void reenrollment_without_a_client_certificate_is_refused() {
        byte[] csr = KeyFiles.certificationRequest(KeyFiles.generateKeyPair(), "dev-1");
        assertThatThrownBy(() -> client.simpleReenroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.code()).contains(FailureCode.NOT_AUTHENTICATED);
                });
    }

    @Test
    void a_slow_server_runs_into_the_request_timeout() {
        server.answer(EstOperation.CA_CERTIFICATES, new FakeEstServer.Canned(200, Map.of(), new byte[0], 3_000));
        EstHttpsClient impatient = new EstHttpsClient(server.uri(), AgentTls.trusting(List.of(pki.root)),
                new EstHttpsClient.Timeouts(Duration.ofSeconds(2), Duration.ofMillis(500)));
        long start = System.nanoTime();
        assertThatThrownBy(impatient::caCertificates).isInstanceOf(HttpTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void a_csr_without_a_token_is_not_authenticated() {
        byte[] csr = KeyFiles.certificationRequest(KeyFiles.generateKeyPair(), "dev-1");
        assertThatThrownBy(() -> client.simpleEnroll(csr)).isInstanceOfSatisfying(EstException.class,
                e -> assertThat(e.code()).contains(FailureCode.NOT_AUTHENTICATED));
    }

    @Test
    void a_nonce_is_read_from_the_json_answer() throws Exception {
        FreshnessNonce nonce = client.nonce();
        assertThat(nonce.value()).isEqualTo(FakeEstServer.NONCE);
        assertThat(nonce.expiry()).isEqualTo(Duration.ofMinutes(10));
        assertThat(nonce.toString()).doesNotContain(FakeEstServer.NONCE);
    }

    @Test
    void a_success_that_is_not_pkcs7_is_reported_readably() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(200,
                Map.of("Content-Type", "text/html"), "<html>login page</html>"));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.status()).isEqualTo(200);
                    assertThat(e.reason()).contains("text/html");
                });
    }

    @Test
    void a_certificate_for_another_key_is_not_accepted() {
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(200,
                Map.of("Content-Type", "application/pkcs7-mime; smime-type=certs-only", "Content-Transfer-Encoding", "base64"),
                io.fleetkey.protocol.Base64Body.encode(io.fleetkey.protocol.Certificates.toPkcs7CertsOnly(
                        List.of(pki.issueClient(TestPki.newKeyPair().getPublic(), "dev-1"))))));
        byte[] csr = csr(KeyFiles.generateKeyPair(), "secret-token");
        assertThatThrownBy(() -> client.simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e ->
                        assertThat(e.reason()).contains("no certificate for the requested key"));
    }

    @Test
    void an_oversized_answer_is_cut_off() {
        server.answer(EstOperation.CA_CERTIFICATES, new FakeEstServer.Canned(200, Map.of(),
                new byte[EstHttpsClient.MAX_RESPONSE_BYTES + 1], 0));
        assertThatThrownBy(client::caCertificates).isInstanceOf(IOException.class).hasMessageContaining("larger than");
    }

    @Test
    void only_https_server_addresses_are_accepted() {
        assertThatThrownBy(() -> new EstHttpsClient(URI.create("http://localhost:8443"),
                AgentTls.trusting(List.of(pki.root)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("https");
    }

    private static HttpHeaders headers(String name, String value) {
        return HttpHeaders.of(Map.of(name, List.of(value)), (a, b) -> true);
    }
}
