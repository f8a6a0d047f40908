package io.fleetkey.server.ocsp;

import static io.fleetkey.server.testing.Processes.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.IssuedCertificate;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCSP responder as relying parties meet it over real HTTPS: {@code openssl ocsp} asks for a
 * certificate enrolled through the EST door and gets good, then revoked with its reason right after
 * the fleet API revokes the device, with and without a nonce, and verifies the delegated signer;
 * the GET form; unknown serials; another CA's certificates; and every way to ask wrongly.
 */
class OcspResponderIT {
    private static final String GROUP = "meters";
    private static TestServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup(GROUP, "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void openssl_gets_good_then_revoked_with_the_reason_at_once_with_and_without_a_nonce() throws Exception {
        writePki();
        pem("device.pem", enroll("meter-0001"));
        java.util.Map<String, Double> before = server.metrics();

        for (String nonce : List.of("-nonce", "-no_nonce")) {
            String out = ocsp(nonce, "-cert", "device.pem");
            assertThat(out).as(nonce).contains("Response verify OK").contains("device.pem: good")
                    .contains("This Update:").contains("Next Update:");
        }
        String good = ocsp("-no_nonce", "-cert", "device.pem");
        assertThat(good).contains("device.pem: good");

        revoke("meter-0001", "keyCompromise");

        for (String nonce : List.of("-no_nonce", "-nonce")) {
            String out = ocsp(nonce, "-cert", "device.pem");
            assertThat(out).as(nonce).contains("Response verify OK").contains("device.pem: revoked")
                    .contains("Reason: keyCompromise").contains("Revocation Time:");
        }
        // Every answer is counted by what it said (docs/metrics.md).
        java.util.Map<String, Double> after = server.metrics();
        assertThat(ocspCount(after, "good") - ocspCount(before, "good")).isEqualTo(3);
        assertThat(ocspCount(after, "revoked") - ocspCount(before, "revoked")).isEqualTo(2);
    }

    private static double ocspCount(java.util.Map<String, Double> samples, String status) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith("fleetkey_ocsp_requests_total{")
                && e.getKey().contains("status=\"" + status + "\"")).mapToDouble(java.util.Map.Entry::getValue).sum();
    }

    @Test
    void the_nonce_is_echoed_and_a_response_with_one_is_never_a_cached_one() throws Exception {
        X509Certificate device = enroll("meter-0002");
        byte[] nonce = new byte[32];
        new java.security.SecureRandom().nextBytes(nonce);

        BasicOCSPResp first = basic(post(request(List.of(device), nonce)));
        BasicOCSPResp second = basic(post(request(List.of(device), nonce)));

        assertThat(DEROctetString.getInstance(first.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                .getParsedValue()).getOctets()).isEqualTo(nonce);
        assertThat(first.getSignature()).isNotEqualTo(second.getSignature());
        SingleResp single = first.getResponses()[0];
        assertThat(single.getCertStatus()).isNull(); // good
        assertThat(Duration.between(single.getThisUpdate().toInstant(), single.getNextUpdate().toInstant()))
                .isEqualTo(Duration.ofHours(1));
        assertThat(first.getProducedAt()).isEqualTo(single.getThisUpdate());
        // Without a nonce the same request is served from the cache until a status changes.
        byte[] cachedA = post(request(List.of(device), null)).body();
        byte[] cachedB = post(request(List.of(device), null)).body();
        assertThat(cachedA).isEqualTo(cachedB);
    }

    @Test
    void the_get_form_answers_a_url_encoded_base64_request_made_by_openssl() throws Exception {
        writePki();
        pem("device.pem", enroll("meter-0003"));
        ok(work, "openssl", "ocsp", "-issuer", "issuing.pem", "-cert", "device.pem", "-no_nonce", "-reqout", "req.der");
        String encoded = URLEncoder.encode(Base64.getEncoder().encodeToString(Files.readAllBytes(work.resolve("req.der"))),
                StandardCharsets.US_ASCII);

        ok(work, "curl", "-sS", "--fail", "--cacert", "root.pem", "-o", "resp.der",
                server.uri("/ocsp/" + encoded).toString());
        String out = ok(work, "openssl", "ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", "-cert", "device.pem",
                "-CAfile", "root.pem");

        assertThat(out).contains("Response verify OK").contains("device.pem: good");
        // Left as it is, unencoded: '+' and '/' of base64 in the path are read as themselves.
        String bare = Base64.getEncoder().encodeToString(Files.readAllBytes(work.resolve("req.der")));
        HttpResponse<byte[]> r = get(bare);
        assertThat(new OCSPResp(r.body()).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
    }

    @Test
    void several_certificates_with_sha256_certids_are_answered_in_one_response() throws Exception {
        writePki();
        pem("a.pem", enroll("meter-0004"));
        pem("b.pem", enroll("meter-0005"));
        revoke("meter-0005", "superseded");

        String out = ocsp("-sha256", "-cert", "a.pem", "-cert", "b.pem", "-serial", "0x1234567890abcdef");

        assertThat(out).contains("Response verify OK").contains("a.pem: good").contains("b.pem: revoked")
                .contains("Reason: superseded").contains("0x1234567890abcdef: unknown");
    }

    @Test
    void an_unknown_serial_is_unknown() throws Exception {
        writePki();

        String out = ocsp("-serial", "0x0102030405060708090a");

        assertThat(out).contains("Response verify OK").contains("0x0102030405060708090a: unknown");
    }

    @Test
    void another_cas_certificate_is_unauthorized_and_says_why() throws Exception {
        TestPki.Ca other = TestPki.ca("Other Maker CA");
        X509Certificate foreign = other.issue("CN=foreign-0001", TestPki.p256(), Duration.ofDays(30));
        pem("other-ca.pem", other.certificate());
        pem("foreign.pem", foreign);
        writePki();

        Processes.Result r = Processes.run(work, "openssl", "ocsp", "-issuer", "other-ca.pem", "-cert", "foreign.pem",
                "-url", server.uri("/ocsp").toString(), "-CAfile", "root.pem");
        assertThat(r.output()).contains("Responder Error: unauthorized (6)");

        CertificateID id = certId(foreign, other.certificate());
        HttpResponse<byte[]> answer = post(new OCSPReqBuilder().addRequest(id).build().getEncoded());
        assertThat(new OCSPResp(answer.body()).getStatus()).isEqualTo(OCSPResp.UNAUTHORIZED);
        assertThat(answer.headers().firstValue("Fleetkey-Reason")).hasValueSatisfying(v -> assertThat(v)
                .contains("another issuer"));
        assertThat(auditedRefusals()).anySatisfy(detail -> assertThat(detail).startsWith("unauthorized for ")
                .contains("another issuer"));
    }

    @Test
    void the_signer_is_a_delegated_ocsp_certificate_of_the_issuing_ca_kept_0600_and_in_the_registry() throws Exception {
        X509Certificate device = enroll("meter-0006");
        BasicOCSPResp basic = basic(post(request(List.of(device), null)));
        X509CertificateHolder[] certs = basic.getCerts();
        assertThat(certs).hasSize(1);
        X509Certificate signer = Certificates.fromDer(certs[0].getEncoded());
        X509Certificate issuing = server.caChain().get(0);

        assertThat(basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(signer))).isTrue();
        signer.verify(issuing.getPublicKey());
        assertThat(signer.getSubjectX500Principal().getName()).isEqualTo("CN=Fleetkey OCSP Responder,O=Fleetkey");
        assertThat(signer.getExtendedKeyUsage()).containsExactly(KeyPurposeId.id_kp_OCSPSigning.getId());
        assertThat(signer.getExtensionValue(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck.getId())).isNotNull();
        assertThat(signer.getBasicConstraints()).isEqualTo(-1);
        assertThat(signer.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(Duration.between(signer.getNotBefore().toInstant(), signer.getNotAfter().toInstant()))
                .isBetween(Duration.ofDays(30), Duration.ofDays(30).plusMinutes(2));

        Path file = server.dataDir().resolve("ca/ocsp-signer.p12");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            ks.load(in, Files.readString(server.dataDir().resolve("ca/ca-password")).trim().toCharArray());
        }
        assertThat(ks.getCertificate("ocsp-signer")).isEqualTo(signer);

        IssuedCertificate recorded = server.context().getBean(CertificateRepository.class)
                .find(signer.getSerialNumber().toString(16)).orElseThrow();
        assertThat(recorded.profile()).isEqualTo("ocsp-signer");
        assertThat(recorded.deviceId()).isNull();
    }

    @Test
    void a_signer_close_to_expiry_is_renewed_at_start_and_the_new_one_signs() throws Exception {
        TestServer own = TestServer.start();
        X509Certificate before;
        try {
            before = own.context().getBean(OcspSigning.class).current().certificate();
        } finally {
            own.close();
        }
        // The old certificate has about 30 days left; asking for renewal 40 days ahead makes it due.
        TestServer restarted = TestServer.startIn(own.dataDir(), Map.of("fleetkey.ocsp.signer-validity", "90d",
                "fleetkey.ocsp.signer-renew-before", "40d"));
        try {
            X509Certificate after = restarted.context().getBean(OcspSigning.class).current().certificate();
            assertThat(after.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
            assertThat(after.getPublicKey()).isNotEqualTo(before.getPublicKey());
            assertThat(restarted.context().getBean(CertificateRepository.class)
                    .find(after.getSerialNumber().toString(16))).isPresent();
        } finally {
            restarted.close();
        }
        TestServer again = TestServer.startIn(own.dataDir(), Map.of());
        try {
            assertThat(again.context().getBean(OcspSigning.class).current().certificate().getSerialNumber())
                    .as("a fresh signer is kept across a restart").isNotEqualTo(before.getSerialNumber());
        } finally {
            again.close();
        }
    }

    @Test
    void a_body_that_is_not_an_ocsp_request_gets_malformed_request_with_a_reason() throws Exception {
        for (byte[] body : List.of("hello".getBytes(StandardCharsets.US_ASCII), new byte[]{0x30, 0x03, 0x02, 0x01},
                new byte[0])) {
            HttpResponse<byte[]> r = post(body);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/ocsp-response");
            assertThat(new OCSPResp(r.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
            assertThat(r.headers().firstValue("Fleetkey-Reason")).isPresent();
        }
        HttpResponse<byte[]> notBase64 = get("not*base64!");
        assertThat(new OCSPResp(notBase64.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        assertThat(notBase64.headers().firstValue("Fleetkey-Reason")).hasValueSatisfying(v -> assertThat(v)
                .contains("base64"));
        HttpResponse<byte[]> notDer = get(Base64.getEncoder().encodeToString("not DER".getBytes()));
        assertThat(new OCSPResp(notDer.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        assertThat(auditedRefusals()).anySatisfy(detail -> assertThat(detail).startsWith("malformedRequest for ")
                .contains("base64"));
    }

    /** The details of the ocsp.refused audit entries, once the asynchronous writes are in. */
    private static List<String> auditedRefusals() throws InterruptedException {
        List<String> details = List.of();
        for (int i = 0; i < 50 && details.isEmpty(); i++) {
            Thread.sleep(100);
            var r = server.api("GET", "/api/v1/audit?action=ocsp.refused&limit=1000", null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            List<String> found = new ArrayList<>();
            Json.parse(r.body()).get("items").forEach(e -> {
                assertThat(e.get("outcome").asText()).isEqualTo("refused");
                assertThat(e.get("actor").asText()).isEqualTo("anonymous");
                found.add(e.get("detail").asText());
            });
            details = found;
        }
        return details;
    }

    @Test
    void a_nonce_over_128_bytes_and_too_many_certificates_are_malformed_requests() throws Exception {
        X509Certificate device = enroll("meter-0007");

        // RFC 9654 raised RFC 8954's 32 octets to 128: a 64-byte nonce is answered and echoed.
        byte[] nonce64 = new byte[64];
        java.util.Arrays.fill(nonce64, (byte) 7);
        HttpResponse<byte[]> echoed = post(request(List.of(device), nonce64));
        BasicOCSPResp echoedBasic = (BasicOCSPResp) new OCSPResp(echoed.body()).getResponseObject();
        assertThat(org.bouncycastle.asn1.ASN1OctetString.getInstance(echoedBasic.getExtension(
                OCSPObjectIdentifiers.id_pkix_ocsp_nonce).getExtnValue().getOctets()).getOctets()).isEqualTo(nonce64);

        HttpResponse<byte[]> longNonce = post(request(List.of(device), new byte[129]));
        assertThat(new OCSPResp(longNonce.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        assertThat(longNonce.headers().firstValue("Fleetkey-Reason")).hasValueSatisfying(v -> assertThat(v)
                .contains("nonce has 129 bytes"));

        List<X509Certificate> many = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            many.add(device);
        }
        HttpResponse<byte[]> tooMany = post(request(many, null));
        assertThat(new OCSPResp(tooMany.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        assertThat(tooMany.headers().firstValue("Fleetkey-Reason")).hasValueSatisfying(v -> assertThat(v)
                .contains("at most 20"));
    }

    @Test
    void a_wrong_content_type_is_415_and_a_large_body_413_with_a_reason() throws Exception {
        byte[] der = request(List.of(enroll("meter-0008")), null);

        HttpResponse<String> json = server.send(server.client(), HttpRequest.newBuilder(server.uri("/ocsp"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(der)).build());
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(Json.field(json.body(), "message")).contains("application/ocsp-request");
        assertThat(json.headers().firstValue("Fleetkey-Reason")).isPresent();

        HttpResponse<String> large = server.send(server.client(), HttpRequest.newBuilder(server.uri("/ocsp"))
                .header("Content-Type", "application/ocsp-request")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[20_000])).build());
        assertThat(large.statusCode()).isEqualTo(413);
        assertThat(Json.field(large.body(), "message")).contains("at most 16384");
    }

    // ---- helpers --------------------------------------------------------------------------

    private void writePki() throws Exception {
        List<X509Certificate> chain = server.caChain();
        pem("issuing.pem", chain.get(0));
        pem("root.pem", chain.get(chain.size() - 1));
    }

    private void pem(String name, X509Certificate certificate) throws Exception {
        Files.writeString(work.resolve(name), Certificates.toPem(List.of(certificate)));
    }

    /** openssl ocsp against the server over HTTPS, trusting only the Fleetkey root. */
    private String ocsp(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl", "ocsp", "-issuer", "issuing.pem", "-url",
                server.uri("/ocsp").toString(), "-CAfile", "root.pem"));
        command.addAll(List.of(args));
        return ok(work, command.toArray(String[]::new));
    }

    private static X509Certificate enroll(String deviceId) {
        String token = server.registerDevice(deviceId, GROUP);
        return TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                TestPki.csr(deviceId, TestPki.p256()), deviceId, token));
    }

    private static void revoke(String deviceId, String reason) {
        HttpResponse<String> r = server.api("POST", "/api/v1/devices/" + deviceId + "/revoke",
                "{\"reason\":\"" + reason + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static CertificateID certId(X509Certificate certificate, X509Certificate issuer) throws Exception {
        return new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new X509CertificateHolder(issuer.getEncoded()), certificate.getSerialNumber());
    }

    private static byte[] request(List<X509Certificate> certificates, byte[] nonce) throws Exception {
        OCSPReqBuilder builder = new OCSPReqBuilder();
        for (X509Certificate c : certificates) {
            builder.addRequest(certId(c, server.caChain().get(0)));
        }
        if (nonce != null) {
            builder.setRequestExtensions(new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false,
                    new DEROctetString(new DEROctetString(nonce).getEncoded()))));
        }
        return builder.build().getEncoded();
    }

    private static HttpResponse<byte[]> post(byte[] body) throws Exception {
        return server.client().send(HttpRequest.newBuilder(server.uri("/ocsp"))
                .header("Content-Type", "application/ocsp-request").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> get(String path) throws Exception {
        return server.client().send(HttpRequest.newBuilder(server.uri("/ocsp/" + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static BasicOCSPResp basic(HttpResponse<byte[]> response) throws Exception {
        OCSPResp resp = new OCSPResp(response.body());
        assertThat(resp.getStatus()).as(response.headers().firstValue("Fleetkey-Reason").orElse("")).isZero();
        return (BasicOCSPResp) resp.getResponseObject();
    }
}
