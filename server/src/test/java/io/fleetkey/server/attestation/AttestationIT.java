package io.fleetkey.server.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;
import io.fleetkey.protocol.Evidence.Measurement;
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
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Attestation before issuance, end to end on a real server: evidence (an EAT signed by the
 * device's IDevID or current certificate) in the CSR, nonces from the nonce operation,
 * appraisal against the group's reference values, the group's policy, the attestation history
 * and listing of the fleet API, on the HTTPS, CoAP/DTLS and MQTT doors. Each kind of bad
 * evidence has its own test and is refused with a reason the device and the fleet manager read.
 */
class AttestationIT {
    private static final String GOOD_FW = "5a".repeat(32);
    private static final String SECOND_FW = "6b".repeat(32);
    private static final String MODEL = "gw-4";
    private static final int CF_PKIX_CERT = 287;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Nonces a second this server issues: more than the tests need, few enough to reach. */
    private static final int NONCE_RATE = 40;

    private static TestServer server;
    private static TestPki.Ca maker;

    @BeforeAll
    static void start() {
        server = TestServer.start(withMqttAnd(Map.of("fleetkey.enrollment.nonce-lifetime", "4s",
                "fleetkey.enrollment.nonce-rate", NONCE_RATE)));
        maker = TestPki.ca("Attesting Maker CA");
        for (String group : List.of("attested", "held", "restricted", "optional")) {
            created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", group, "profile", "device",
                    "makerCas", List.of(Certificates.toPem(List.of(maker.certificate())))))));
            ok(server.api("PATCH", "/api/v1/groups/" + group + "/attestation", Json.write(Map.of(
                    "mode", group.equals("optional") ? "optional" : "required",
                    "onWarning", group.equals("held") ? "hold" : group.equals("restricted") ? "restrict" : "refuse",
                    "allowedModels", List.of(MODEL), "minimumVersion", "2.0.0"))));
            created(server.api("POST", "/api/v1/groups/" + group + "/attestation/digests", Json.write(Map.of(
                    "component", "firmware", "sha256", GOOD_FW, "note", "release 2.4.1"))));
        }
    }

    private static Map<String, Object> withMqttAnd(Map<String, Object> extra) {
        Map<String, Object> settings = new java.util.HashMap<>(TestServer.withMqtt());
        settings.putAll(extra);
        return settings;
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---- the device side ------------------------------------------------------------------------

    /** A registered device with a factory identity (IDevID) from the maker. */
    private record Device(String id, KeyPair idevidKeys, X509Certificate idevid) {
        byte[] csr(KeyPair keys, String nonce, Evidence evidence) {
            return TestPki.csrWithEvidence(id, keys, idevidKeys, List.of(idevid), nonce, evidence);
        }
    }

    private static Device device(String group) {
        String id = group + "-" + COUNTER.incrementAndGet();
        server.registerDevice(id, group);
        KeyPair keys = TestPki.p256();
        return new Device(id, keys, maker.issue("CN=" + id, keys, Duration.ofDays(365)));
    }

    private static Evidence good() {
        return new Evidence(MODEL, "gw-firmware", "2.4.1", DebugStatus.DISABLED_PERMANENTLY,
                List.of(new Measurement("firmware", GOOD_FW, "2.4.1"), new Measurement("config", "00".repeat(32))));
    }

    private static Evidence withFirmware(String sha256) {
        return new Evidence(MODEL, "gw-firmware", "2.4.1", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", sha256)));
    }

    private static String nonce() {
        HttpResponse<String> r = server.send(server.client(),
                HttpRequest.newBuilder(server.uri("/.well-known/est/nonce")).build());
        assertThat(r.statusCode()).isEqualTo(200);
        return Json.field(r.body(), "nonce");
    }

    private static HttpResponse<String> enroll(byte[] csr) {
        return server.est(server.client(), "simpleenroll", csr, null, null);
    }

    private static void assertRefused(HttpResponse<String> r, int status, String code, String... reasonParts) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Fleetkey-Error")).contains(code);
        // A request without credentials gets a bare challenge, its reason in a header (see EstController).
        String reason = r.body() + r.headers().firstValue("Fleetkey-Reason").orElse("");
        for (String part : reasonParts) {
            assertThat(reason).contains(part);
        }
        assertThat(r.body()).doesNotContain("Exception");
    }

    // ---- the fleet manager's side ---------------------------------------------------------------

    private static String history(String deviceId) {
        return ok(server.api("GET", "/api/v1/devices/" + deviceId + "/attestations", null));
    }

    /** The newest appraisal's field, e.g. result, decision, reasons[0]. */
    private static String latest(String deviceId, String field) {
        return Json.field(history(deviceId), "items[0]." + field);
    }

    private static String ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static String created(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r.body();
    }

    // ---- the wire format, read without the production decoder ----------------------------------

    @Test
    void the_attestation_attribute_of_a_device_csr_reads_with_plain_bouncy_castle() throws Exception {
        Device d = device("attested");
        KeyPair keys = TestPki.p256();
        var csr = new org.bouncycastle.pkcs.PKCS10CertificationRequest(d.csr(keys, "bm9uY2Utbm9uY2Utbm9uY2U", good()));
        var attributes = csr.getAttributes(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.59"));
        assertThat(attributes).hasSize(1);
        assertThat(attributes[0].getAttrValues().size()).isEqualTo(1);
        // AttestationBundle ::= SEQUENCE { attestations SEQUENCE OF AttestationStatement, certs SEQUENCE OF ... }
        var bundle = org.bouncycastle.asn1.ASN1Sequence.getInstance(attributes[0].getAttrValues().getObjectAt(0));
        var statement = org.bouncycastle.asn1.ASN1Sequence.getInstance(
                org.bouncycastle.asn1.ASN1Sequence.getInstance(bundle.getObjectAt(0)).getObjectAt(0));
        assertThat(org.bouncycastle.asn1.ASN1ObjectIdentifier.getInstance(statement.getObjectAt(0)).getId())
                .isEqualTo("2.25.4566962601679812942663893590391753033");
        String jwt = org.bouncycastle.asn1.DERUTF8String.getInstance(statement.getObjectAt(1)).getString();
        var firstCert = org.bouncycastle.asn1.x509.Certificate.getInstance(
                org.bouncycastle.asn1.ASN1Sequence.getInstance(bundle.getObjectAt(1)).getObjectAt(0));
        assertThat(firstCert.getEncoded()).isEqualTo(d.idevid().getEncoded());
        // The JWT's claims, read as plain JSON.
        var claims = Json.parse(new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[1]),
                StandardCharsets.UTF_8));
        assertThat(claims.get("sub").asText()).isEqualTo(d.id());
        assertThat(claims.get("spki_sha256").asText()).isEqualTo(DeviceStatement.keyBinding(keys.getPublic()));
        assertThat(claims.get("eat_nonce").asText()).isEqualTo("bm9uY2Utbm9uY2Utbm9uY2U");
        assertThat(claims.get("measurements").get(0).get(0).asInt()).isEqualTo(296);
    }

    // ---- good evidence --------------------------------------------------------------------------

    @Test
    void good_evidence_is_issued_and_kept_as_affirming_with_its_claims() {
        Device d = device("attested");
        KeyPair keys = TestPki.p256();
        HttpResponse<String> r = enroll(d.csr(keys, nonce(), good()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        X509Certificate cert = TestServer.issuedCertificate(r);
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());

        String h = history(d.id());
        assertThat(Json.field(h, "items[0].result")).isEqualTo("affirming");
        assertThat(Json.field(h, "items[0].decision")).isEqualTo("issued");
        assertThat(Json.field(h, "items[0].operation")).isEqualTo("enroll");
        assertThat(Json.field(h, "items[0].serial")).isEqualTo(cert.getSerialNumber().toString(16));
        assertThat(Json.field(h, "items[0].hwModel")).isEqualTo(MODEL);
        assertThat(Json.field(h, "items[0].swVersion")).isEqualTo("2.4.1");
        assertThat(Json.field(h, "items[0].debug")).isEqualTo("disabled-permanently");
        assertThat(Json.field(h, "items[0].measurements[0].sha256")).isEqualTo(GOOD_FW);
        assertThat(Json.field(h, "items[0].signer")).contains("CN=" + d.id());
        String device = ok(server.api("GET", "/api/v1/devices/" + d.id(), null));
        assertThat(Json.field(device, "attestation")).isEqualTo("affirming");
    }

    @Test
    void an_ed25519_factory_identity_signs_evidence_too() {
        String id = "attested-" + COUNTER.incrementAndGet();
        server.registerDevice(id, "attested");
        KeyPair idevidKeys = TestPki.ed25519();
        Device d = new Device(id, idevidKeys, maker.issue("CN=" + id, idevidKeys, Duration.ofDays(365)));
        HttpResponse<String> r = enroll(d.csr(TestPki.p256(), nonce(), good()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(latest(id, "result")).isEqualTo("affirming");
    }

    @Test
    void a_retry_of_the_same_request_gets_the_same_certificate() {
        Device d = device("attested");
        byte[] csr = d.csr(TestPki.p256(), nonce(), good());
        X509Certificate first = TestServer.issuedCertificate(enroll(csr));
        HttpResponse<String> again = enroll(csr);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(TestServer.issuedCertificate(again)).isEqualTo(first);
    }

    // ---- bad evidence, one test each, on every door ---------------------------------------------

    /**
     * The three doors, each without a client certificate so the statement alone authenticates:
     * HTTPS, CoAP over a server-authenticated DTLS session, MQTT through the embedded broker's
     * TLS listener as a device without a certificate.
     */
    enum Door { HTTPS, COAPS, MQTT }

    /** A door's answer, in the door's own status ("401" or "4.01"), with the failure code and reason. */
    private record Answer(Door door, String status, String code, String reason, boolean truncated) {
        boolean issued() {
            return status.equals("200") || status.equals("2.04");
        }
    }

    private static Answer send(Door door, String deviceId, byte[] csr) throws Exception {
        switch (door) {
            case HTTPS -> {
                HttpResponse<String> r = enroll(csr);
                return new Answer(door, Integer.toString(r.statusCode()), r.headers().firstValue("Fleetkey-Error")
                        .orElse(""), r.body() + r.headers().firstValue("Fleetkey-Reason").orElse(""), false);
            }
            case COAPS -> {
                try (CoapsTestClient c = CoapsTestClient.to(server).timeout(Duration.ofSeconds(10)).build()) {
                    CoapResponse r = c.enroll("sen", csr, CF_PKIX_CERT);
                    assertThat(r).as("no CoAP answer").isNotNull();
                    String status = r.getCode().codeClass + "." + String.format("%02d", r.getCode().codeDetail);
                    String text = r.getResponseText() == null ? "" : r.getResponseText();
                    String code = text.contains(":") && !r.isSuccess() ? text.substring(0, text.indexOf(':')) : "";
                    return new Answer(door, status, code, text, text.endsWith("..."));
                }
            }
            default -> {
                X509Certificate root = server.caChain().get(server.caChain().size() - 1);
                try (MqttTestClient m = MqttTestClient.tls(server.mqttsPort(), root, deviceId, deviceId, null, null)) {
                    assertThat(m.subscribe(MqttTopics.deviceResponses(deviceId))).isEqualTo(1);
                    MqttTestClient.Received r = ask(m, deviceId, "sen", csr);
                    String status = status(r);
                    boolean json = !status.startsWith("2");
                    return new Answer(door, status, json ? Json.field(r.text(), "code") : "",
                            json ? Json.field(r.text(), "reason") : "", false);
                }
            }
        }
    }

    /** Refused with this code, in the door's status for it, the reason naming each part; nothing internal shown. */
    private static void assertRefused(Answer a, String code, String... reasonParts) {
        assertThat(a.code()).as(a.toString()).isEqualTo(code);
        String coap = io.fleetkey.protocol.EstCoapStatus.of(io.fleetkey.protocol.FailureCode.valueOf(code));
        String expected = a.door() == Door.HTTPS ? coap.replace(".", "") : coap;
        assertThat(a.status()).as(a.toString()).isEqualTo(expected);
        if (!a.truncated()) {
            for (String part : reasonParts) {
                assertThat(a.reason()).as(a.toString()).contains(part);
            }
        }
        assertThat(a.reason()).doesNotContain("Exception");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void good_evidence_alone_enrolls_on_every_door(Door door) throws Exception {
        Device d = device("attested");
        assertThat(send(door, d.id(), d.csr(TestPki.p256(), nonce(), good())).issued()).isTrue();
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_signed_by_an_untrusted_maker_is_refused(Door door) throws Exception {
        Device d = device("attested");
        TestPki.Ca stranger = TestPki.ca("Counterfeit Maker CA");
        KeyPair fakeKeys = TestPki.p256();
        Device fake = new Device(d.id(), fakeKeys, stranger.issue("CN=" + d.id(), fakeKeys, Duration.ofDays(30)));
        assertRefused(send(door, d.id(), fake.csr(TestPki.p256(), nonce(), good())), "UNTRUSTED_CLIENT_CERTIFICATE",
                "does not chain to a trusted CA");
        assertThat(latest(d.id(), "result")).isEqualTo("unverified");
        assertThat(latest(d.id(), "reasons[0]")).contains("does not chain to a trusted CA");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_signed_by_an_expired_idevid_is_refused(Door door) throws Exception {
        Device d = device("attested");
        KeyPair oldKeys = TestPki.p256();
        Device expired = new Device(d.id(), oldKeys, maker.issue("CN=" + d.id(), oldKeys, Duration.ofSeconds(-30)));
        assertRefused(send(door, d.id(), expired.csr(TestPki.p256(), nonce(), good())), "UNTRUSTED_CLIENT_CERTIFICATE",
                "expired");
        assertThat(latest(d.id(), "reasons[0]")).contains("expired");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_signed_by_a_revoked_idevid_is_refused(Door door) throws Exception {
        String group = "revoking-" + door.name().toLowerCase(java.util.Locale.ROOT);
        TestPki.Ca revokingMaker = TestPki.ca("Revoking Maker CA " + door);
        created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", group, "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(revokingMaker.certificate())))))));
        ok(server.api("PATCH", "/api/v1/groups/" + group + "/attestation", Json.write(Map.of("mode", "required"))));
        String id = group + "-1";
        server.registerDevice(id, group);
        KeyPair keys = TestPki.p256();
        Device d = new Device(id, keys, revokingMaker.issue("CN=" + id, keys, Duration.ofDays(365)));
        String view = ok(server.api("PATCH", "/api/v1/groups/" + group,
                Json.write(Map.of("makerCrls", List.of(revokingMaker.crlPem(d.idevid()))))));
        assertThat(Json.field(view, "makerCrls[0].revoked")).isEqualTo("1");

        assertRefused(send(door, id, d.csr(TestPki.p256(), nonce(), good())), "UNTRUSTED_CLIENT_CERTIFICATE",
                "revoked by its maker");
        assertThat(latest(id, "reasons[0]")).contains("revoked by its maker");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_with_a_reused_nonce_is_refused(Door door) throws Exception {
        Device d = device("attested");
        String nonce = nonce();
        assertThat(send(door, d.id(), d.csr(TestPki.p256(), nonce, good())).issued()).isTrue();
        assertRefused(send(door, d.id(), d.csr(TestPki.p256(), nonce, good())), "STALE_EVIDENCE", "already used");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_with_an_expired_nonce_is_refused(Door door) throws Exception {
        Device d = device("attested");
        String nonce = nonce();
        Thread.sleep(4_500); // nonces live 4 s in this server
        assertRefused(send(door, d.id(), d.csr(TestPki.p256(), nonce, good())), "STALE_EVIDENCE", "unknown or expired");
        assertThat(latest(d.id(), "reasons[0]")).contains("unknown or expired");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_bound_to_another_csrs_key_is_refused(Door door) throws Exception {
        Device d = device("attested");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csrWithClaims(d.id(), keys, d.idevidKeys(), List.of(d.idevid()), new DeviceStatement.Claims(
                d.id(), DeviceStatement.keyBinding(TestPki.p256().getPublic()), Instant.now(), nonce(), good()));
        assertRefused(send(door, d.id(), csr), "NOT_AUTHENTICATED", "bound to another key");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_with_an_unknown_firmware_digest_is_refused_and_the_device_flagged(Door door) throws Exception {
        Device d = device("attested");
        String unknown = "ee".repeat(32);
        assertRefused(send(door, d.id(), d.csr(TestPki.p256(), nonce(), withFirmware(unknown))), "ATTESTATION_FAILED",
                "contraindicated", "component 'firmware' has digest " + unknown);
        assertThat(latest(d.id(), "result")).isEqualTo("contraindicated");
        assertThat(latest(d.id(), "decision")).isEqualTo("refused");
        String listed = ok(server.api("GET", "/api/v1/devices?attestation=contraindicated&group=attested&size=1000",
                null));
        assertThat(listed).contains("\"" + d.id() + "\"");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_with_debug_enabled_is_refused(Door door) throws Exception {
        Device d = device("attested");
        Evidence debugOn = new Evidence(MODEL, "gw-firmware", "2.4.1", DebugStatus.ENABLED,
                List.of(new Measurement("firmware", GOOD_FW)));
        assertRefused(send(door, d.id(), d.csr(TestPki.p256(), nonce(), debugOn)), "ATTESTATION_FAILED",
                "debug is enabled");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_with_a_tampered_signature_is_refused(Door door) throws Exception {
        Device d = device("attested");
        KeyPair keys = TestPki.p256();
        String jwt = DeviceStatement.sign(new DeviceStatement.Claims(d.id(), DeviceStatement.keyBinding(keys.getPublic()),
                Instant.now(), nonce(), good()), d.idevidKeys().getPrivate());
        // Change one claim after signing: the firmware name the device says it runs.
        String[] parts = jwt.split("\\.");
        String claims = new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"gw-firmware\"", "\"gw-firmwarf\"");
        String tampered = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        byte[] csr = TestPki.csrWithBundle(d.id(), keys, new AttestationBundle(
                List.of(AttestationBundle.Statement.eatJwt(tampered)), List.of(d.idevid())));
        assertRefused(send(door, d.id(), csr), "NOT_AUTHENTICATED", "signature does not verify");
        assertThat(latest(d.id(), "result")).isEqualTo("unverified");
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void evidence_missing_where_required_is_refused(Door door) throws Exception {
        String id = "attested-" + COUNTER.incrementAndGet();
        String token = server.registerDevice(id, "attested");
        assertRefused(send(door, id, TestPki.csrWithToken(id, TestPki.p256(), token)), "ATTESTATION_REQUIRED",
                "requires evidence");
        assertThat(latest(id, "reasons[0]")).contains("requires evidence");

        Device d = device("attested");
        assertRefused(send(door, d.id(), d.csr(TestPki.p256(), null, good())), "ATTESTATION_REQUIRED", "nonce");
    }

    @Test
    void a_statement_signed_by_another_certificate_than_the_tls_one_is_refused() {
        Device d = device("attested");
        KeyPair otherKeys = TestPki.p256();
        X509Certificate other = maker.issue("CN=" + d.id(), otherKeys, Duration.ofDays(30));
        var client = server.client(otherKeys, List.of(other));
        HttpResponse<String> r = server.est(client, "simpleenroll", d.csr(TestPki.p256(), nonce(), good()), null, null);
        assertRefused(r, 401, "NOT_AUTHENTICATED", "not by the client certificate of the connection");
    }

    // ---- policy ---------------------------------------------------------------------------------

    @Test
    void a_warning_is_held_for_approval_and_issued_once_approved() {
        Device d = device("held");
        Evidence outdated = new Evidence(MODEL, "gw-firmware", "1.9.0", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", GOOD_FW)));
        byte[] csr = d.csr(TestPki.p256(), nonce(), outdated);
        HttpResponse<String> held = enroll(csr);
        assertThat(held.statusCode()).as(held.body()).isEqualTo(202);
        assertThat(held.headers().firstValue("Retry-After")).isPresent();
        assertThat(held.body()).contains("1.9.0 is below");
        assertThat(latest(d.id(), "result")).isEqualTo("warning");
        assertThat(latest(d.id(), "decision")).isEqualTo("held");

        ok(server.api("POST", "/api/v1/devices/" + d.id() + "/approve", null));
        HttpResponse<String> issued = enroll(csr); // the same request, asked again after Retry-After
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
        assertThat(latest(d.id(), "decision")).isEqualTo("issued");
    }

    @Test
    void a_renewal_held_on_a_warning_keeps_the_device_enrolled_until_approved() {
        Device d = device("held");
        KeyPair keys = TestPki.p256();
        X509Certificate current = TestServer.issuedCertificate(enroll(d.csr(keys, nonce(), good())));
        Evidence outdated = new Evidence(MODEL, "gw-firmware", "1.9.0", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", GOOD_FW)));
        byte[] renewal = TestPki.csrWithEvidence(d.id(), TestPki.p256(), keys, List.of(current), nonce(), outdated);
        var mtls = server.client(keys, List.of(current));
        HttpResponse<String> held = server.est(mtls, "simplereenroll", renewal, null, null);
        assertThat(held.statusCode()).as(held.body()).isEqualTo(202);
        assertThat(Json.field(ok(server.api("GET", "/api/v1/devices/" + d.id(), null)), "status")).isEqualTo("ENROLLED");
        assertThat(latest(d.id(), "decision")).isEqualTo("held");

        ok(server.api("POST", "/api/v1/devices/" + d.id() + "/approve", null));
        HttpResponse<String> renewed = server.est(mtls, "simplereenroll", renewal, null, null);
        assertThat(renewed.statusCode()).as(renewed.body()).isEqualTo(200);
    }

    @Test
    void a_token_in_the_csr_still_authenticates_when_evidence_rides_along() {
        Device d = device("attested");
        String token = created(server.api("POST", "/api/v1/devices/" + d.id() + "/enrollment-token", null));
        token = Json.field(token, "enrollmentToken");
        KeyPair keys = TestPki.p256();
        String nonce = nonce();
        byte[] wrongToken = csrWithTokenAndEvidence(d, keys, "not-the-token", nonce);
        assertRefused(enroll(wrongToken), 401, "NOT_AUTHENTICATED", "token is not valid");
        HttpResponse<String> r = enroll(csrWithTokenAndEvidence(d, keys, token, nonce));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
    }

    private static byte[] csrWithTokenAndEvidence(Device d, KeyPair keys, String token, String nonce) {
        String jwt = DeviceStatement.sign(new DeviceStatement.Claims(d.id(), DeviceStatement.keyBinding(keys.getPublic()),
                Instant.now(), nonce, good()), d.idevidKeys().getPrivate());
        AttestationBundle bundle = new AttestationBundle(List.of(AttestationBundle.Statement.eatJwt(jwt)),
                List.of(d.idevid()));
        try {
            return new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                    new org.bouncycastle.asn1.x500.X500Name("CN=" + d.id()), keys.getPublic())
                    .addAttribute(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_challengePassword,
                            new org.bouncycastle.asn1.DERPrintableString(token))
                    .addAttribute(new org.bouncycastle.asn1.ASN1ObjectIdentifier(
                            io.fleetkey.protocol.CsrAttestation.ID_AA_ATTESTATION),
                            org.bouncycastle.asn1.ASN1Primitive.fromByteArray(bundle.encoded()))
                    .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                            .build(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void a_warning_gets_the_short_lived_restricted_profile_where_the_group_says_so() {
        Device d = device("restricted");
        Evidence unmeasured = new Evidence(MODEL, "gw-firmware", "2.4.1", DebugStatus.DISABLED, List.of());
        HttpResponse<String> r = enroll(d.csr(TestPki.p256(), nonce(), unmeasured));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        X509Certificate cert = TestServer.issuedCertificate(r);
        long hours = Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()).toHours();
        assertThat(hours).isBetween(23L, 25L);
        assertThat(latest(d.id(), "result")).isEqualTo("warning");
        assertThat(latest(d.id(), "decision")).isEqualTo("restricted");
        assertThat(latest(d.id(), "reasons[0]")).contains("'firmware' was not measured");
    }

    @Test
    void optional_attestation_issues_without_evidence_and_appraises_evidence_when_sent() {
        String id = "optional-" + COUNTER.incrementAndGet();
        String token = server.registerDevice(id, "optional");
        assertThat(enroll(TestPki.csrWithToken(id, TestPki.p256(), token)).statusCode()).isEqualTo(200);

        Device d = device("optional");
        assertRefused(enroll(d.csr(TestPki.p256(), nonce(), withFirmware("ee".repeat(32)))), 403, "ATTESTATION_FAILED");
    }

    @Test
    void renewal_re_attests_and_a_withdrawn_digest_fails_it() {
        // A group of its own, so withdrawing its digest touches no other test.
        created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "renewing", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate())))))));
        ok(server.api("PATCH", "/api/v1/groups/renewing/attestation", Json.write(Map.of("mode", "required"))));
        created(server.api("POST", "/api/v1/groups/renewing/attestation/digests",
                Json.write(Map.of("component", "firmware", "sha256", GOOD_FW))));
        created(server.api("POST", "/api/v1/groups/renewing/attestation/digests",
                Json.write(Map.of("component", "firmware", "sha256", SECOND_FW))));
        Device d = device("renewing");
        KeyPair keys = TestPki.p256();
        X509Certificate current = TestServer.issuedCertificate(enroll(d.csr(keys, nonce(), withFirmware(GOOD_FW))));

        // Renewal: evidence signed by the current Fleetkey key, over the device's mTLS session.
        KeyPair next = TestPki.p256();
        var mtls = server.client(keys, List.of(current));
        HttpResponse<String> renewed = server.est(mtls, "simplereenroll", TestPki.csrWithEvidence(d.id(), next, keys,
                List.of(current), nonce(), withFirmware(GOOD_FW)), null, null);
        assertThat(renewed.statusCode()).as(renewed.body()).isEqualTo(200);
        assertThat(latest(d.id(), "operation")).isEqualTo("renew");
        X509Certificate second = TestServer.issuedCertificate(renewed);

        // The firmware it runs is withdrawn: the next renewal fails, and the device is flagged.
        ok(server.api("DELETE", "/api/v1/groups/renewing/attestation/digests?component=firmware&sha256=" + GOOD_FW, null));
        KeyPair third = TestPki.p256();
        var mtls2 = server.client(next, List.of(second));
        assertRefused(server.est(mtls2, "simplereenroll", TestPki.csrWithEvidence(d.id(), third, next, List.of(second),
                nonce(), withFirmware(GOOD_FW)), null, null), 403, "ATTESTATION_FAILED", GOOD_FW);
        assertThat(latest(d.id(), "result")).isEqualTo("contraindicated");
        assertThat(ok(server.api("GET", "/api/v1/devices?attestation=contraindicated&group=renewing", null)))
                .contains("\"" + d.id() + "\"");
        // Without evidence at all, a renewal in a group that requires it is refused too.
        assertRefused(server.est(mtls2, "simplereenroll", TestPki.csr(d.id(), TestPki.p256()), null, null), 403,
                "ATTESTATION_REQUIRED");
        // A device on the remaining allowed firmware renews.
        assertThat(server.est(mtls2, "simplereenroll", TestPki.csrWithEvidence(d.id(), third, next, List.of(second),
                nonce(), withFirmware(SECOND_FW)), null, null).statusCode()).isEqualTo(200);
    }

    /** A renewal over CoAP (DTLS with the current certificate) or MQTT (evidence signed by the current key). */
    private static Answer renewOn(Door door, String id, KeyPair currentKeys, X509Certificate current, byte[] csr)
            throws Exception {
        if (door == Door.COAPS) {
            try (CoapsTestClient c = CoapsTestClient.to(server).identity(currentKeys, List.of(current))
                    .timeout(Duration.ofSeconds(10)).build()) {
                CoapResponse r = c.enroll("sren", csr, CF_PKIX_CERT);
                String status = r.getCode().codeClass + "." + String.format("%02d", r.getCode().codeDetail);
                String text = r.getResponseText() == null ? "" : r.getResponseText();
                return new Answer(door, status, r.isSuccess() ? "" : text.substring(0, Math.max(0, text.indexOf(':'))),
                        text, text.endsWith("..."));
            }
        }
        X509Certificate root = server.caChain().get(server.caChain().size() - 1);
        try (MqttTestClient m = MqttTestClient.tls(server.mqttsPort(), root, id, id, null, null)) {
            assertThat(m.subscribe(MqttTopics.deviceResponses(id))).isEqualTo(1);
            MqttTestClient.Received r = ask(m, id, "sren", csr);
            boolean json = !status(r).startsWith("2");
            return new Answer(door, status(r), json ? Json.field(r.text(), "code") : "",
                    json ? Json.field(r.text(), "reason") : "", false);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Door.class, names = {"COAPS", "MQTT"})
    void renewals_re_attest_over_coap_and_mqtt_too(Door door) throws Exception {
        String group = "renew-" + door.name().toLowerCase(java.util.Locale.ROOT);
        created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", group, "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate())))))));
        ok(server.api("PATCH", "/api/v1/groups/" + group + "/attestation", Json.write(Map.of("mode", "required"))));
        created(server.api("POST", "/api/v1/groups/" + group + "/attestation/digests",
                Json.write(Map.of("component", "firmware", "sha256", GOOD_FW))));
        Device d = device(group);
        KeyPair keys = TestPki.p256();
        X509Certificate current = TestServer.issuedCertificate(enroll(d.csr(keys, nonce(), withFirmware(GOOD_FW))));

        KeyPair next = TestPki.p256();
        Answer renewed = renewOn(door, d.id(), keys, current, TestPki.csrWithEvidence(d.id(), next, keys,
                List.of(current), nonce(), withFirmware(GOOD_FW)));
        assertThat(renewed.issued()).as(renewed.toString()).isTrue();
        assertThat(latest(d.id(), "operation")).isEqualTo("renew");
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");

        ok(server.api("DELETE", "/api/v1/groups/" + group + "/attestation/digests?component=firmware&sha256=" + GOOD_FW,
                null));
        assertRefused(renewOn(door, d.id(), keys, current, TestPki.csrWithEvidence(d.id(), TestPki.p256(), keys,
                List.of(current), nonce(), withFirmware(GOOD_FW))), "ATTESTATION_FAILED", GOOD_FW);
        assertThat(latest(d.id(), "result")).isEqualTo("contraindicated");
    }

    // ---- reference values through the fleet API ------------------------------------------------

    @Test
    void reference_values_are_validated_and_audited() {
        created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "refs", "profile", "device"))));
        String path = "/api/v1/groups/refs/attestation";
        assertThat(Json.field(ok(server.api("GET", path, null)), "mode")).isEqualTo("off");

        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("mode", "sometimes"),
                Map.of("onWarning", "ignore"), Map.of("restrictedProfile", "nonexistent"),
                Map.of("minimumVersion", "v2-beta"), Map.of("allowedModels", List.of("x".repeat(33))))) {
            HttpResponse<String> r = server.api("PATCH", path, Json.write(bad));
            assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
        }
        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("component", "firmware", "sha256", "abc"),
                Map.of("component", "bad name!", "sha256", GOOD_FW))) {
            HttpResponse<String> r = server.api("POST", path + "/digests", Json.write(bad));
            assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
        }
        String view = created(server.api("POST", path + "/digests", Json.write(Map.of("component", "firmware",
                "sha256", GOOD_FW.toUpperCase(), "note", "release 2.4.1"))));
        assertThat(Json.field(view, "allowedDigests[0].sha256")).isEqualTo(GOOD_FW);
        assertThat(server.api("POST", path + "/digests", Json.write(Map.of("component", "firmware",
                "sha256", GOOD_FW))).statusCode()).isEqualTo(409);
        assertThat(server.api("DELETE", path + "/digests?component=firmware&sha256=" + SECOND_FW, null).statusCode())
                .isEqualTo(404);
        // Withdrawn, it stays on record (its component is still checked); allowed again, it is active again.
        String withdrawn = ok(server.api("DELETE", path + "/digests?component=firmware&sha256=" + GOOD_FW, null));
        assertThat(Json.field(withdrawn, "allowedDigests[0].withdrawnAt")).isNotBlank();
        assertThat(server.api("DELETE", path + "/digests?component=firmware&sha256=" + GOOD_FW, null).statusCode())
                .isEqualTo(404);
        created(server.api("POST", path + "/digests", Json.write(Map.of("component", "firmware", "sha256", GOOD_FW,
                "note", "release 2.4.1"))));
        ok(server.api("PATCH", path, Json.write(Map.of("mode", "required", "minimumVersion", "3.1",
                "debugAllowed", true))));
        String group = ok(server.api("GET", "/api/v1/groups/refs", null));
        assertThat(Json.field(group, "attestation.minimumVersion")).isEqualTo("3.1");
        assertThat(Json.field(group, "attestation.allowedDigests[0].note")).isEqualTo("release 2.4.1");

        // A CRL must come from one of the group's maker CAs.
        HttpResponse<String> foreignCrl = server.api("PATCH", "/api/v1/groups/refs",
                Json.write(Map.of("makerCrls", List.of(TestPki.ca("Other CA").crlPem()))));
        assertThat(foreignCrl.statusCode()).as(foreignCrl.body()).isEqualTo(400);
        assertThat(foreignCrl.body()).contains("not signed by a maker CA");
        assertThat(server.api("GET", "/api/v1/devices?attestation=unverified", null).statusCode()).isEqualTo(400);
    }

    // ---- the other doors ------------------------------------------------------------------------

    @Test
    void over_coap_a_dtls_factory_identity_with_good_evidence_enrolls_and_bad_evidence_is_refused() throws Exception {
        Device d = device("attested");
        try (CoapsTestClient c = CoapsTestClient.to(server).identity(d.idevidKeys(), List.of(d.idevid()))
                .timeout(Duration.ofSeconds(10)).build()) {
            CoapResponse nonceAnswer = c.get("/.well-known/est/nonce", 50);
            assertThat(nonceAnswer.getCode()).isEqualTo(ResponseCode.CONTENT);
            String nonce = Json.field(nonceAnswer.getResponseText(), "nonce");

            CoapResponse refused = c.enroll("sen", d.csr(TestPki.p256(), nonce, withFirmware("ee".repeat(32))),
                    CF_PKIX_CERT);
            assertThat(refused.getCode()).as(CoapsTestClient.describe(refused)).isEqualTo(ResponseCode.FORBIDDEN);
            assertThat(refused.getResponseText()).contains("ATTESTATION_FAILED");

            String fresh = Json.field(c.get("/.well-known/est/nonce", 50).getResponseText(), "nonce");
            KeyPair keys = TestPki.p256();
            CoapResponse issued = c.enroll("sen", d.csr(keys, fresh, good()), CF_PKIX_CERT);
            assertThat(issued.getCode()).as(CoapsTestClient.describe(issued)).isEqualTo(ResponseCode.CHANGED);
            assertThat(Certificates.fromDer(issued.getPayload()).getPublicKey()).isEqualTo(keys.getPublic());

            CoapResponse replay = c.enroll("sen", d.csr(TestPki.p256(), fresh, good()), CF_PKIX_CERT);
            assertThat(replay.getCode()).as(CoapsTestClient.describe(replay)).isEqualTo(ResponseCode.UNAUTHORIZED);
            assertThat(replay.getResponseText()).contains("STALE_EVIDENCE");
        }
        assertThat(latest(d.id(), "result")).isEqualTo("unverified");
        assertThat(Json.field(history(d.id()), "items[1].result")).isEqualTo("affirming");
    }

    @Test
    void over_mqtt_evidence_alone_authenticates_and_is_appraised() throws Exception {
        Device d = device("attested");
        X509Certificate root = server.caChain().get(server.caChain().size() - 1);
        try (MqttTestClient m = MqttTestClient.tls(server.mqttsPort(), root, d.id(), d.id(), null, null)) {
            assertThat(m.subscribe(MqttTopics.deviceResponses(d.id()))).isEqualTo(1);
            MqttTestClient.Received nonceAnswer = ask(m, d.id(), "nonce", new byte[0]);
            assertThat(status(nonceAnswer)).as(nonceAnswer.text()).isEqualTo("2.05");
            String nonce = Json.field(nonceAnswer.text(), "nonce");

            MqttTestClient.Received refused = ask(m, d.id(), "sen", d.csr(TestPki.p256(), nonce, new Evidence("gw-9",
                    "gw-firmware", "2.4.1", DebugStatus.DISABLED, List.of(new Measurement("firmware", GOOD_FW)))));
            assertThat(status(refused)).as(refused.text()).isEqualTo("4.03");
            assertThat(Json.field(refused.text(), "code")).isEqualTo("ATTESTATION_FAILED");
            assertThat(Json.field(refused.text(), "reason")).contains("hardware model 'gw-9'");

            String fresh = Json.field(ask(m, d.id(), "nonce", new byte[0]).text(), "nonce");
            MqttTestClient.Received issued = ask(m, d.id(), "sen", d.csr(TestPki.p256(), fresh, good()));
            assertThat(status(issued)).as(issued.text()).isEqualTo("2.04");
        }
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
    }

    /** One nonce request on a door: null when served, else the refusal's checks already made. */
    private interface NonceAsker extends AutoCloseable {
        boolean refusedAndChecked() throws Exception;
    }

    private static NonceAsker nonceAsker(Door door) throws Exception {
        switch (door) {
            case HTTPS -> {
                var client = server.client();
                return new NonceAsker() {
                    public boolean refusedAndChecked() {
                        HttpResponse<String> r = server.send(client,
                                HttpRequest.newBuilder(server.uri("/.well-known/est/nonce")).build());
                        if (r.statusCode() == 200) {
                            return false;
                        }
                        assertThat(r.statusCode()).isEqualTo(503);
                        assertThat(r.headers().firstValue("Retry-After")).contains("1");
                        assertThat(r.headers().firstValue("Fleetkey-Error")).contains("UNAVAILABLE");
                        assertThat(r.body()).contains("nonces a second");
                        return true;
                    }

                    public void close() {
                    }
                };
            }
            case COAPS -> {
                CoapsTestClient coap = CoapsTestClient.to(server).timeout(Duration.ofSeconds(10)).build();
                return new NonceAsker() {
                    public boolean refusedAndChecked() throws Exception {
                        CoapResponse r = coap.get("/.well-known/est/nonce", 50);
                        if (r.getCode() == ResponseCode.CONTENT) {
                            return false;
                        }
                        assertThat(r.getCode()).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);
                        assertThat(r.getOptions().getMaxAge()).isEqualTo(1L);
                        assertThat(r.getResponseText()).startsWith("UNAVAILABLE");
                        return true;
                    }

                    public void close() {
                        coap.close();
                    }
                };
            }
            default -> {
                String deviceId = device("attested").id();
                X509Certificate root = server.caChain().get(server.caChain().size() - 1);
                MqttTestClient mqtt = MqttTestClient.tls(server.mqttsPort(), root, deviceId, deviceId, null, null);
                assertThat(mqtt.subscribe(MqttTopics.deviceResponses(deviceId))).isEqualTo(1);
                return new NonceAsker() {
                    public boolean refusedAndChecked() throws Exception {
                        MqttTestClient.Received r = ask(mqtt, deviceId, "nonce", new byte[0]);
                        if (status(r).equals("2.05")) {
                            return false;
                        }
                        assertThat(status(r)).isEqualTo("5.03");
                        assertThat(Json.field(r.text(), "code")).isEqualTo("UNAVAILABLE");
                        assertThat(Json.field(r.text(), "retryAfter")).isEqualTo("1");
                        return true;
                    }

                    public void close() throws Exception {
                        mqtt.close();
                    }
                };
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void nonce_requests_beyond_the_rate_are_told_when_to_come_back(Door door) throws Exception {
        Thread.sleep(1_100); // a fresh second of nonces
        // Several askers at once, so the rate is passed however slow one round trip is here.
        int askers = 6;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(askers);
        java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();
        try {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int a = 0; a < askers; a++) {
                runs.add(pool.submit(() -> {
                    try (NonceAsker asker = nonceAsker(door)) {
                        for (int i = 0; i < NONCE_RATE * 3 && !refused.get(); i++) {
                            if (asker.refusedAndChecked()) {
                                refused.set(true);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (var run : runs) {
                run.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(refused).as("a nonce request over " + door + " beyond " + NONCE_RATE + " a second was refused")
                    .isTrue();
        } finally {
            pool.shutdownNow();
            Thread.sleep(1_100); // leave the next test a fresh second
        }
    }

    private static MqttTestClient.Received ask(MqttTestClient device, String id, String operation, byte[] payload)
            throws Exception {
        String requestId = UUID.randomUUID().toString();
        assertThat(device.publish("fleetkey/v1/est/" + id + "/" + operation + "/req/" + requestId, payload,
                new MqttProperties())).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().contains("/res/" + requestId)) {
                return r;
            }
        }
        throw new AssertionError("no answer to request " + requestId + " within 15 s");
    }

    private static String status(MqttTestClient.Received answer) {
        return answer.topic().substring(answer.topic().lastIndexOf('/') + 1);
    }
}
