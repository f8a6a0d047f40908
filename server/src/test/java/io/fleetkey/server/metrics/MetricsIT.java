package io.fleetkey.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.MqttTestClient;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Prometheus endpoint of a real server: enrollments on all three doors, a refusal, a nonce
 * and a revocation show up in the scrape under their names, tags and values; the scrape needs
 * the API token unless FLEETKEY_METRICS_PUBLIC opens it; no other management endpoint answers.
 */
class MetricsIT {
    private static final String GROUP = "meters";
    private static final int CF_PKIX_CERT = 287;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.withMqtt());
        server.createGroup(GROUP, "device");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void enrollments_refusals_nonces_and_revocations_are_counted_by_door_and_reason() throws Exception {
        Map<String, Double> before = scrape(server);

        // HTTPS: a first enrollment, a renewal with the certificate, a wrong token.
        String httpsId = "meter-h-" + suffix();
        String httpsToken = server.registerDevice(httpsId, GROUP);
        KeyPair keys = TestPki.p256();
        X509Certificate first = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                TestPki.csr(httpsId, keys), httpsId, httpsToken));
        TestServer.issuedCertificate(server.est(server.client(keys, server.withIssuingCa(first)), "simplereenroll",
                TestPki.csr(httpsId, TestPki.p256()), null, null));
        String wrongId = "meter-w-" + suffix();
        server.registerDevice(wrongId, GROUP);
        assertThat(server.est(server.client(), "simpleenroll", TestPki.csr(wrongId, TestPki.p256()), wrongId,
                "not-the-token").statusCode()).isEqualTo(401);
        assertThat(server.send(server.client(), HttpRequest.newBuilder(server.uri("/.well-known/est/nonce"))
                .timeout(Duration.ofSeconds(30)).build()).statusCode()).isEqualTo(200);

        // EST-coaps: a first enrollment with the token in the CSR.
        String coapsId = "meter-c-" + suffix();
        String coapsToken = server.registerDevice(coapsId, GROUP);
        try (CoapsTestClient c = CoapsTestClient.to(server).timeout(Duration.ofSeconds(10)).build()) {
            CoapResponse r = c.enroll("sen", TestPki.csrWithToken(coapsId, TestPki.p256(), coapsToken), CF_PKIX_CERT);
            assertThat(r.getCode()).as(CoapsTestClient.describe(r)).isEqualTo(ResponseCode.CHANGED);
        }

        // MQTT: a first enrollment with the token in the CSR, over the broker's TLS listener.
        String mqttId = "meter-m-" + suffix();
        String mqttToken = server.registerDevice(mqttId, GROUP);
        X509Certificate root = server.caChain().get(server.caChain().size() - 1);
        try (MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, mqttId, mqttId, null, null)) {
            assertThat(device.subscribe(MqttTopics.deviceResponses(mqttId))).isEqualTo(1);
            String requestId = UUID.randomUUID().toString();
            device.publish("fleetkey/v1/est/" + mqttId + "/sen/req/" + requestId,
                    TestPki.csrWithToken(mqttId, TestPki.p256(), mqttToken), new MqttProperties());
            MqttTestClient.Received answer = answerTo(device, requestId);
            assertThat(answer.topic()).as(answer.text()).endsWith("/2.04");
            assertThat(Certificates.fromPkcs7CertsOnly(answer.payload())).hasSize(1);
        }

        // A revocation: the HTTPS device and its two certificates.
        HttpResponse<String> revoked = server.api("POST", "/api/v1/devices/" + httpsId + "/revoke",
                "{\"reason\":\"keyCompromise\"}");
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);

        Map<String, Double> after = scrape(server);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"https\",operation=\"enroll\",outcome=\"issued\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"https\",operation=\"reenroll\",outcome=\"issued\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"https\",operation=\"enroll\",outcome=\"refused\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollment_refusals_total{door=\"https\",reason=\"NOT_AUTHENTICATED\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"coaps\",operation=\"enroll\",outcome=\"issued\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"mqtt\",operation=\"enroll\",outcome=\"issued\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollments_total{door=\"https\",operation=\"enroll\",outcome=\"pending\"}"))
                .isZero();
        assertThat(delta(before, after, "fleetkey_enrollment_duration_seconds_count{door=\"https\",operation=\"enroll\"}"))
                .isEqualTo(2);
        assertThat(delta(before, after, "fleetkey_enrollment_duration_seconds_count{door=\"coaps\",operation=\"enroll\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollment_duration_seconds_count{door=\"mqtt\",operation=\"enroll\"}"))
                .isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_enrollment_duration_seconds_sum{door=\"https\",operation=\"reenroll\"}"))
                .isPositive().isLessThan(30);
        // Every request falls in the +Inf bucket; the histogram counts what the timer counts.
        assertThat(delta(before, after,
                "fleetkey_enrollment_duration_seconds_bucket{door=\"https\",operation=\"enroll\",le=\"+Inf\"}"))
                .isEqualTo(2);
        assertThat(delta(before, after, "fleetkey_nonces_issued_total")).isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_revoked_devices_total{reason=\"keyCompromise\"}")).isEqualTo(1);
        assertThat(delta(before, after, "fleetkey_revoked_certificates_total{reason=\"keyCompromise\"}")).isEqualTo(2);
        assertThat(after).containsKey("fleetkey_ocsp_requests_total{status=\"good\"}");

        String text = scrapeText(server);
        assertThat(text).doesNotContain(httpsId).doesNotContain(wrongId).doesNotContain(coapsId).doesNotContain(mqttId)
                .doesNotContain(first.getSerialNumber().toString(16));
    }

    @Test
    void the_jvm_process_and_system_metrics_are_there() {
        assertThat(scrape(server).keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes{"))
                .anyMatch(k -> k.startsWith("jvm_threads_live_threads"))
                .anyMatch(k -> k.startsWith("jvm_gc_"))
                .anyMatch(k -> k.startsWith("process_cpu_usage"))
                .anyMatch(k -> k.startsWith("process_uptime_seconds"))
                .anyMatch(k -> k.startsWith("system_cpu_count"));
    }

    @Test
    void the_scrape_needs_the_api_token() {
        HttpResponse<String> none = get(server, "/prometheus", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(Json.field(none.body(), "message")).contains("Authorization: Bearer");
        assertThat(none.body()).doesNotContain("fleetkey_");

        HttpResponse<String> wrong = get(server, "/prometheus", "not-a-token-of-this-server");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(Json.field(wrong.body(), "message")).contains("not valid");
    }

    /** Other spellings of the path either reach the same filter or no endpoint at all. */
    @ParameterizedTest
    @ValueSource(strings = {"/prometheus/", "/PROMETHEUS", "//prometheus", "/./prometheus", "/prometheus?x=1",
        "/prometheus;x=1", "/api/../prometheus", "/%70rometheus"})
    void no_spelling_of_the_path_gets_around_the_token(String path) {
        HttpResponse<String> r = get(server, path, null);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isIn(401, 404);
        assertThat(r.body()).doesNotContain("fleetkey_enrollments_total");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/env", "/beans", "/loggers", "/metrics", "/routes", "/info", "/threaddump", "/refresh",
        "/stop", "/caches", "/flyway"})
    void other_management_endpoints_are_not_reachable_even_with_the_token(String path) {
        assertThat(get(server, path, TestServer.ADMIN_TOKEN).statusCode()).as(path).isEqualTo(404);
        assertThat(get(server, path, null).statusCode()).as(path).isEqualTo(404);
    }

    @Test
    void health_stays_public() {
        HttpResponse<String> r = get(server, "/health", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Json.field(r.body(), "status")).isEqualTo("UP");
    }

    @Test
    void the_public_switch_opens_the_scrape_and_nothing_else() {
        try (TestServer open = TestServer.start(Map.of("fleetkey.metrics.public", "true"))) {
            HttpResponse<String> r = get(open, "/prometheus", null);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(r.body()).contains("fleetkey_enrollments_total{");
            assertThat(get(open, "/api/v1/devices", null).statusCode()).isEqualTo(401);
            assertThat(get(open, "/env", null).statusCode()).isEqualTo(404);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    private static HttpResponse<String> get(TestServer target, String path, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + target.port() + path))
                .timeout(Duration.ofSeconds(30)).GET();
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return target.send(target.client(), b.build());
    }

    private static String scrapeText(TestServer target) {
        HttpResponse<String> r = get(target, "/prometheus", TestServer.ADMIN_TOKEN);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    /** Each sample of the text format: series (name and labels, as printed) to value. */
    private static Map<String, Double> scrape(TestServer target) {
        return target.metrics();
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String series) {
        assertThat(after).as("series " + series).containsKey(series);
        return after.get(series) - before.getOrDefault(series, 0.0);
    }

    private static MqttTestClient.Received answerTo(MqttTestClient device, String requestId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().contains("/res/" + requestId)) {
                return r;
            }
        }
        throw new AssertionError("no answer to request " + requestId + " within 15 s");
    }
}
