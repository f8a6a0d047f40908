package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Freshness nonces (draft-ietf-lamps-attestation-freshness) over HTTPS: GET
 * /.well-known/est/nonce, and a device statement carrying one in its eat_nonce is accepted
 * once: again for the same CSR (a retry), never for another.
 */
class FreshnessNonceIT {
    private static TestServer server;
    private static TestPki.Ca maker;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("fleetkey.enrollment.nonce-lifetime", "3s"));
        maker = TestPki.ca("Nonce Maker CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "fresh", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String nonce() {
        HttpResponse<String> r = server.send(server.client(),
                HttpRequest.newBuilder(server.uri("/.well-known/est/nonce")).build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/est-attestation-freshness+json"));
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(Json.field(r.body(), "expiry")).isEqualTo("3");
        return Json.field(r.body(), "nonce");
    }

    private record Device(String id, KeyPair idevidKeys, X509Certificate idevid) {
        byte[] csr(KeyPair keys, String nonce) {
            return TestPki.csrWithStatement(id, keys, idevidKeys, List.of(idevid), id, keys.getPublic(), Instant.now(),
                    nonce);
        }
    }

    private static Device device(String id) {
        server.registerDevice(id, "fresh");
        KeyPair keys = TestPki.p256();
        return new Device(id, keys, maker.issue("CN=" + id, keys, Duration.ofDays(30)));
    }

    @Test
    void curl_gets_a_random_32_byte_nonce_in_the_drafts_json() {
        String body = Processes.ok(work, "curl", "-s", "--cacert", server.caChainPem().toString(),
                server.uri("/.well-known/est/nonce").toString());
        String nonce = Json.field(body, "nonce");
        assertThat(nonce).matches("[A-Za-z0-9_-]{43}");
        assertThat(nonce()).isNotEqualTo(nonce);
    }

    @Test
    void a_statement_with_a_fresh_nonce_enrolls_and_its_retry_too_but_no_other_request() {
        Device d = device("fresh-0001");
        String nonce = nonce();
        KeyPair keys = TestPki.p256();
        byte[] csr = d.csr(keys, nonce);
        HttpResponse<String> first = server.est(server.client(), "simpleenroll", csr, null, null);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(TestServer.issuedCertificate(first).getPublicKey()).isEqualTo(keys.getPublic());

        // The same request again after a lost answer: the same certificate.
        HttpResponse<String> retry = server.est(server.client(), "simpleenroll", csr, null, null);
        assertThat(TestServer.issuedCertificate(retry)).isEqualTo(TestServer.issuedCertificate(first));

        // The nonce with another key (a replayed statement rebuilt around another CSR): refused.
        HttpResponse<String> replay = server.est(server.client(), "simpleenroll", d.csr(TestPki.p256(), nonce), null, null);
        assertThat(replay.statusCode()).isEqualTo(401);
        assertThat(replay.headers().firstValue("Fleetkey-Error")).contains("STALE_EVIDENCE");
        assertThat(replay.body()).contains("already used");
    }

    @Test
    void a_statement_from_an_untrusted_signer_does_not_use_up_the_nonce() {
        Device d = device("fresh-0003");
        String nonce = nonce();
        TestPki.Ca stranger = TestPki.ca("Stranger CA");
        KeyPair strangerKeys = TestPki.p256();
        Device impostor = new Device(d.id(), strangerKeys, stranger.issue("CN=" + d.id(), strangerKeys, Duration.ofDays(1)));
        HttpResponse<String> refused = server.est(server.client(), "simpleenroll", impostor.csr(TestPki.p256(), nonce),
                null, null);
        assertThat(refused.statusCode()).isEqualTo(401);

        KeyPair keys = TestPki.p256();
        HttpResponse<String> genuine = server.est(server.client(), "simpleenroll", d.csr(keys, nonce), null, null);
        assertThat(genuine.statusCode()).as(genuine.body()).isEqualTo(200);
        assertThat(TestServer.issuedCertificate(genuine).getPublicKey()).isEqualTo(keys.getPublic());
    }

    @Test
    void an_unknown_or_expired_nonce_is_refused() throws Exception {
        Device d = device("fresh-0002");
        HttpResponse<String> unknown = server.est(server.client(), "simpleenroll",
                d.csr(TestPki.p256(), "bm90LWEtbm9uY2UtZnJvbS11cw"), null, null);
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(unknown.headers().firstValue("Fleetkey-Error")).contains("STALE_EVIDENCE");
        assertThat(unknown.body()).contains("unknown or expired");

        String nonce = nonce();
        Thread.sleep(3_500); // the nonce lives 3 s in this server
        HttpResponse<String> late = server.est(server.client(), "simpleenroll", d.csr(TestPki.p256(), nonce), null, null);
        assertThat(late.statusCode()).isEqualTo(401);
        assertThat(late.headers().firstValue("Fleetkey-Error")).contains("STALE_EVIDENCE");
        assertThat(late.body()).contains("unknown or expired");
    }

    private static HttpResponse<String> postNonce(String contentType, String body) {
        return server.send(server.client(), HttpRequest.newBuilder(server.uri("/.well-known/est/nonce"))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void a_post_asks_for_a_nonce_of_a_given_length_as_the_draft_describes() {
        String type = "application/est-attestation-freshness+json";
        HttpResponse<String> sixteen = postNonce(type, "{\"len\": 16}");
        assertThat(sixteen.statusCode()).as(sixteen.body()).isEqualTo(200);
        assertThat(sixteen.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(type));
        assertThat(java.util.Base64.getUrlDecoder().decode(Json.field(sixteen.body(), "nonce"))).hasSize(16);
        HttpResponse<String> plain = postNonce(type, "{}");
        assertThat(java.util.Base64.getUrlDecoder().decode(Json.field(plain.body(), "nonce"))).hasSize(32);

        for (String bad : new String[]{"{\"len\": 4}", "{\"len\": 64}", "{\"len\": \"32\"}",
                "{\"type\": \"1.2.3.4\"}", "[1]", "not json"}) {
            HttpResponse<String> r = postNonce(type, bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.body()).as("the draft's 400 has no body").isEmpty();
            assertThat(r.headers().firstValue("Fleetkey-Reason")).as(bad).isPresent();
        }
        assertThat(postNonce("application/json", "{\"len\": 16}").statusCode()).isEqualTo(415);
    }
}
