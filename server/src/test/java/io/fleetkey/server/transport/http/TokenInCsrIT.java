package io.fleetkey.server.transport.http;

import java.net.http.HttpResponse;
import java.security.KeyPair;

import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A device without credentials on the channel may carry its one-time token in the CSR's challengePassword. */
class TokenInCsrIT {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup("cp", "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void token_in_challenge_password_enrolls_without_http_basic() {
        String token = server.registerDevice("cp-0001", "cp");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csrWithToken("cp-0001", keys, token);

        HttpResponse<String> first = server.est(server.client(), "simpleenroll", csr, null, null);
        assertThat(TestServer.issuedCertificate(first).getPublicKey()).isEqualTo(keys.getPublic());

        // A retry after a lost answer gets the same certificate, not a TOKEN_USED refusal.
        HttpResponse<String> retry = server.est(server.client(), "simpleenroll", csr, null, null);
        assertThat(TestServer.issuedCertificate(retry)).isEqualTo(TestServer.issuedCertificate(first));
    }

    @Test
    void wrong_token_in_challenge_password_is_refused_with_401() {
        server.registerDevice("cp-0002", "cp");
        HttpResponse<String> r = server.est(server.client(), "simpleenroll",
                TestPki.csrWithToken("cp-0002", TestPki.p256(), "not-the-token"), null, null);
        assertThat(r.statusCode()).isEqualTo(401);
        // No Authorization header was sent, so the answer is a bare challenge with the reason in a header.
        assertThat(r.headers().firstValue("Fleetkey-Reason")).hasValueSatisfying(
                reason -> assertThat(reason).contains("enrollment token is not valid for device 'cp-0002'"));
    }

    @Test
    void token_of_another_device_in_challenge_password_does_not_enroll_this_one() {
        String othersToken = server.registerDevice("cp-0003", "cp");
        server.registerDevice("cp-0004", "cp");
        HttpResponse<String> r = server.est(server.client(), "simpleenroll",
                TestPki.csrWithToken("cp-0004", TestPki.p256(), othersToken), null, null);
        assertThat(r.statusCode()).isEqualTo(401);
    }

    @Test
    void http_basic_decides_when_both_are_present() {
        String token = server.registerDevice("cp-0005", "cp");
        HttpResponse<String> r = server.est(server.client(), "simpleenroll",
                TestPki.csrWithToken("cp-0005", TestPki.p256(), "a-wrong-token-in-the-csr"), "cp-0005", token);
        assertThat(r.statusCode()).isEqualTo(200);
    }
}
