package io.fleetkey.server.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;
import io.fleetkey.protocol.Evidence.Measurement;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Revocation by attribute against a real server: devices enrolled over HTTPS with attestation
 * evidence signed by their factory identities, then revoked by what their latest appraisal
 * reported, by group, by enrollment date or by a list, with a dry run first.
 */
class RevokeByAttributeIT {
    private static final String FW_A = "a1".repeat(32);
    private static final String FW_B = "b2".repeat(32);
    private static TestServer server;
    private static TestPki.Ca maker;
    /** Serial of each device's certificate. */
    private static final Map<String, BigInteger> SERIALS = new HashMap<>();

    @BeforeAll
    static void start() {
        server = TestServer.start();
        maker = TestPki.ca("Fleet Maker CA");
        for (String group : List.of("meters", "kiosks", "dates")) {
            created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", group, "profile", "device",
                    "makerCas", List.of(Certificates.toPem(List.of(maker.certificate())))))));
            ok(server.api("PATCH", "/api/v1/groups/" + group + "/attestation", Json.write(Map.of(
                    "mode", "required", "requireNonce", false))));
            for (String fw : List.of(FW_A, FW_B)) {
                created(server.api("POST", "/api/v1/groups/" + group + "/attestation/digests", Json.write(Map.of(
                        "component", "firmware", "sha256", fw))));
            }
        }
        // 100 meters, half on each firmware; a few kiosks on firmware A.
        IntStream.range(0, 100).forEach(i -> enroll(String.format("meter-%03d", i), "meters", i % 2 == 0 ? FW_A : FW_B,
                i % 2 == 0 ? "1.0.0" : "2.0.0"));
        IntStream.range(0, 5).forEach(i -> enroll("kiosk-" + i, "kiosks", FW_A, "1.0.0"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static void enroll(String id, String group, String firmware, String version) {
        server.registerDevice(id, group);
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, Duration.ofDays(365));
        KeyPair keys = TestPki.p256();
        Evidence evidence = new Evidence("meter-v2", "meter-firmware", version, DebugStatus.DISABLED,
                List.of(new Measurement("firmware", firmware, version)));
        HttpResponse<String> r = server.est(server.client(), "simpleenroll",
                TestPki.csrWithEvidence(id, keys, idevidKeys, List.of(idevid), null, evidence), null, null);
        assertThat(r.statusCode()).as(id + ": " + r.body()).isEqualTo(200);
        SERIALS.put(id, TestServer.issuedCertificate(r).getSerialNumber());
    }

    private static HttpResponse<String> revocations(Map<String, Object> request) {
        return server.api("POST", "/api/v1/revocations", Json.write(request));
    }

    private static Map<String, Object> request(Map<String, Object> filter, boolean dryRun) {
        Map<String, Object> r = new HashMap<>();
        r.put("filter", filter);
        r.put("reason", "keyCompromise");
        r.put("dryRun", dryRun);
        return r;
    }

    private static String status(String deviceId) {
        return Json.field(ok(server.api("GET", "/api/v1/devices/" + deviceId, null)), "status");
    }

    private static X509CRL crl() throws Exception {
        HttpResponse<byte[]> r = server.client().send(java.net.http.HttpRequest.newBuilder(server.uri("/crl")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new java.io.ByteArrayInputStream(r.body()));
    }

    @Test
    void a_dry_run_by_firmware_digest_counts_50_of_100_and_the_revoke_takes_exactly_those_50() throws Exception {
        Map<String, Object> filter = Map.of("group", "meters", "digest", Map.of("component", "firmware", "sha256", FW_A));
        long crlBefore = crlNumber(crl());

        String dry = ok(revocations(request(filter, true)));
        assertThat(Json.field(dry, "dryRun")).isEqualTo("true");
        assertThat(Json.field(dry, "matched")).isEqualTo("50");
        assertThat(Json.field(dry, "revoked")).isEqualTo("0");
        assertThat(Json.field(dry, "sample[0]")).isEqualTo("meter-000");
        assertThat(Json.field(dry, "sample[1]")).isEqualTo("meter-002");
        assertThat(Json.field(dry, "sample[19]")).isEqualTo("meter-038");
        assertThat(Json.parse(dry).get("sample").size()).isEqualTo(20);
        assertThat(status("meter-000")).as("a dry run changes nothing").isEqualTo("ENROLLED");

        Map<String, Object> revoke = request(filter, false);
        revoke.put("expectedCount", 50);
        revoke.put("note", "firmware A signing key leaked");
        String done = ok(revocations(revoke));
        assertThat(Json.field(done, "matched")).isEqualTo("50");
        assertThat(Json.field(done, "revoked")).isEqualTo("50");
        assertThat(Json.field(done, "revokedSerials")).isEqualTo("50");
        assertThat(Json.field(done, "reason")).isEqualTo("keyCompromise");

        X509CRL crl = crl();
        for (int i = 0; i < 100; i++) {
            String id = String.format("meter-%03d", i);
            boolean onA = i % 2 == 0;
            assertThat(status(id)).as(id).isEqualTo(onA ? "REVOKED" : "ENROLLED");
            assertThat(crl.getRevokedCertificate(SERIALS.get(id))).as(id + " on the CRL").matches(e -> onA == (e != null));
        }
        assertThat(crlNumber(crl)).as("one CRL for the whole batch").isEqualTo(crlBefore + 1);
        assertThat(status("kiosk-0")).as("another group is untouched").isEqualTo("ENROLLED");

        // Again: nothing left to revoke, and it says why.
        String again = ok(revocations(request(filter, false)));
        assertThat(Json.field(again, "matched")).isEqualTo("0");
        assertThat(Json.field(again, "alreadyRevoked")).isEqualTo("50");
        assertThat(Json.field(again, "revoked")).isEqualTo("0");
    }

    @Test
    void the_software_version_of_the_latest_appraisal_selects_too() {
        String dry = ok(revocations(request(Map.of("swVersion", "2.0.0"), true)));
        assertThat(Json.field(dry, "matched")).isEqualTo("50");
        assertThat(Json.field(dry, "sample[0]")).isEqualTo("meter-001");
        // Digest without a group spans groups: the 5 kiosks and whichever meters on A are not yet revoked.
        String byDigest = ok(revocations(request(Map.of("digest", Map.of("sha256", FW_A)), true)));
        assertThat(Integer.parseInt(Json.field(byDigest, "matched")) + Integer.parseInt(Json.field(byDigest,
                "alreadyRevoked"))).isEqualTo(55);
    }

    @Test
    void enrollment_dates_and_explicit_lists_select_and_a_changed_set_revokes_nothing() throws Exception {
        List<String> early = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            enroll("date-early-" + i, "dates", FW_B, "3.0.0");
            early.add("date-early-" + i);
        }
        Thread.sleep(20);
        Instant between = Instant.now();
        Thread.sleep(20);
        for (int i = 0; i < 2; i++) {
            enroll("date-late-" + i, "dates", FW_B, "3.0.0");
        }
        assertThat(Json.field(ok(revocations(request(Map.of("group", "dates", "enrolledTo", between.toString()), true))),
                "matched")).isEqualTo("3");
        String late = ok(revocations(request(Map.of("group", "dates", "enrolledFrom", between.toString()), true)));
        assertThat(Json.field(late, "matched")).isEqualTo("2");
        assertThat(Json.field(late, "sample[0]")).isEqualTo("date-late-0");

        // The set changed since the dry run (one device revoked in between): 409, nothing revoked.
        ok(server.api("POST", "/api/v1/devices/date-early-0/revoke", Json.write(Map.of("reason", "superseded"))));
        Map<String, Object> stale = request(Map.of("deviceIds", early), false);
        stale.put("expectedCount", 3);
        HttpResponse<String> conflict = revocations(stale);
        assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
        assertThat(Json.field(conflict.body(), "matched")).isEqualTo("2");
        assertThat(Json.field(conflict.body(), "message")).contains("nothing was revoked");
        assertThat(status("date-early-1")).isEqualTo("ENROLLED");

        stale.put("expectedCount", 2);
        String done = ok(revocations(stale));
        assertThat(Json.field(done, "revoked")).isEqualTo("2");
        assertThat(Json.field(done, "alreadyRevoked")).isEqualTo("1");
        assertThat(status("date-early-2")).isEqualTo("REVOKED");
        assertThat(status("date-late-0")).isEqualTo("ENROLLED");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "an empty filter                  | {\"filter\": {}, \"reason\": \"keyCompromise\"}                                   | 400 | filter is empty",
        "no filter                        | {\"reason\": \"keyCompromise\"}                                                   | 400 | filter",
        "a misspelt criterion             | {\"filter\": {\"grup\": \"meters\"}, \"reason\": \"keyCompromise\"}                 | 400 | grup",
        "a digest that is not SHA-256 hex | {\"filter\": {\"digest\": {\"sha256\": \"abc\"}}, \"reason\": \"keyCompromise\"}     | 400 | 64 lower-case hex",
        "a digest without sha256          | {\"filter\": {\"digest\": {\"component\": \"firmware\"}}, \"reason\": \"keyCompromise\"} | 400 | sha256",
        "an unknown group                 | {\"filter\": {\"group\": \"nowhere\"}, \"reason\": \"keyCompromise\"}               | 404 | nowhere",
        "no reason                        | {\"filter\": {\"group\": \"meters\"}}                                             | 400 | reason",
        "a hold, which cannot be undone   | {\"filter\": {\"group\": \"meters\"}, \"reason\": \"certificateHold\"}              | 400 | certificateHold",
        "dates the wrong way round        | {\"filter\": {\"enrolledFrom\": \"2026-02-01T00:00:00Z\", \"enrolledTo\": \"2026-01-01T00:00:00Z\"}, \"reason\": \"keyCompromise\"} | 400 | before",
        "a date that is not one           | {\"filter\": {\"enrolledFrom\": \"yesterday\"}, \"reason\": \"keyCompromise\"}       | 400 | ",
        "an invalid listed id             | {\"filter\": {\"deviceIds\": [\"a b\"]}, \"reason\": \"keyCompromise\"}             | 400 | not valid",
        "an unregistered listed id        | {\"filter\": {\"deviceIds\": [\"meter-001\", \"ghost-1\"]}, \"reason\": \"keyCompromise\"} | 404 | ghost-1",
        "an empty list                    | {\"filter\": {\"deviceIds\": []}, \"reason\": \"keyCompromise\"}                  | 400 | deviceIds",
        "a negative expected count        | {\"filter\": {\"group\": \"meters\"}, \"reason\": \"keyCompromise\", \"expectedCount\": -1} | 400 | expectedCount",
    })
    void a_revocation_by_attribute_asked_wrongly_is_refused_with_a_reason_and_changes_nothing(String why, String body,
                                                                                          int status, String says) {
        HttpResponse<String> r = server.api("POST", "/api/v1/revocations", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(Json.field(r.body(), "message")).isNotBlank();
        if (says != null) {
            assertThat(Json.field(r.body(), "message")).contains(says);
        }
        assertThat(r.body()).doesNotContain("Exception");
        assertThat(status("meter-001")).isEqualTo("ENROLLED");
    }

    @Test
    void a_list_over_10000_ids_is_refused() {
        List<String> ids = IntStream.range(0, 10_001).mapToObj(i -> "many-" + i).toList();
        HttpResponse<String> r = revocations(request(Map.of("deviceIds", ids), true));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(Json.field(r.body(), "message")).contains("10000");
    }

    @Test
    void without_a_token_it_is_401_and_changes_nothing() throws Exception {
        HttpResponse<String> r = server.send(server.client(), java.net.http.HttpRequest.newBuilder(
                        server.uri("/api/v1/revocations")).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(Json.write(request(Map.of("group", "kiosks"),
                        false)))).build());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(status("kiosk-1")).isEqualTo("ENROLLED");
    }

    private static long crlNumber(X509CRL crl) {
        byte[] ext = crl.getExtensionValue(org.bouncycastle.asn1.x509.Extension.cRLNumber.getId());
        return org.bouncycastle.asn1.ASN1Integer.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getValue().longValueExact();
    }

    private static String ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static String created(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r.body();
    }
}
