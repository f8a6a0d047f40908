package io.fleetkey.server.authority;

import static io.fleetkey.server.testing.Processes.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The issuing CA's CRL as relying parties get it: from the URL in issued certificates without a
 * token, and from the DER and PEM files; read by the JDK and checked with the CA key; published
 * again with a higher number on each revocation, on the schedule and across a restart; and
 * openssl's own CRL check accepting a certificate before its revocation and refusing it after.
 */
class CrlPublicationIT {
    private static TestServer server;

    @TempDir
    Path work;

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
    void the_crl_is_served_without_a_token_as_der_signed_by_the_issuing_ca() throws Exception {
        X509Certificate issuing = server.caChain().get(0);
        X509Certificate device = enroll("meter-0001", TestPki.p256());
        assertThat(crlDistributionPoint(device)).isEqualTo("https://localhost:8443/crl");

        HttpResponse<byte[]> r = fetch(server);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/pkix-crl");
        X509CRL crl = parse(r.body());
        crl.verify(issuing.getPublicKey());
        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.getIssuerX500Principal()).isEqualTo(issuing.getSubjectX500Principal());
        assertThat(Duration.between(crl.getThisUpdate().toInstant(), crl.getNextUpdate().toInstant()))
                .isEqualTo(Duration.ofHours(24));
        assertThat(crl.getExtensionValue(Extension.authorityKeyIdentifier.getId())).isNotNull();
        assertThat(crl.isRevoked(device)).isFalse();

        Path folder = server.dataDir().resolve("crl");
        assertThat(Files.readAllBytes(folder.resolve("issuing-ca.crl"))).isEqualTo(r.body());
        String pem = Files.readString(folder.resolve("issuing-ca.crl.pem"));
        assertThat(pem).startsWith("-----BEGIN X509 CRL-----");
        assertThat(parse(pem.getBytes())).isEqualTo(crl);
        assertThat(Files.getPosixFilePermissions(folder.resolve("issuing-ca.crl.pem")))
                .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        try (var files = Files.list(folder)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("issuing-ca.crl", "issuing-ca.crl.pem");
        }
    }

    @Test
    void each_revocation_publishes_a_crl_with_a_higher_number_that_lists_the_certificate() throws Exception {
        X509Certificate compromised = enroll("meter-0002", TestPki.p256());
        X509Certificate retired = enroll("meter-0003", TestPki.p256());
        long before = number(parse(fetch(server).body()));

        revoke("meter-0002", "keyCompromise");
        X509CRL first = parse(fetch(server).body());
        revoke("meter-0003", "unspecified");
        X509CRL second = parse(fetch(server).body());

        assertThat(number(first)).isGreaterThan(before);
        assertThat(number(second)).isGreaterThan(number(first));
        assertThat(first.getRevokedCertificate(compromised.getSerialNumber()).getRevocationReason())
                .isEqualTo(CRLReason.KEY_COMPROMISE);
        assertThat(first.isRevoked(retired)).isFalse();
        assertThat(second.isRevoked(compromised)).isTrue();
        assertThat(second.getRevokedCertificate(retired.getSerialNumber()).getRevocationReason()).isNull();
        assertThat(parse(Files.readAllBytes(server.dataDir().resolve("crl/issuing-ca.crl")))).isEqualTo(second);
    }

    @Test
    void openssl_accepts_a_certificate_until_the_crl_lists_it_as_revoked() throws Exception {
        KeyPair keys = TestPki.p256();
        Files.writeString(work.resolve("device.pem"), Certificates.toPem(List.of(enroll("meter-0004", keys))));
        Files.copy(server.caChainPem(), work.resolve("chain.pem"));
        String url = server.uri("/crl").toString();

        Files.copy(server.dataDir().resolve("crl/issuing-ca.crl.pem"), work.resolve("before.pem"));
        assertThat(ok(work, "openssl", "verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "before.pem",
                "device.pem")).contains("device.pem: OK");

        revoke("meter-0004", "keyCompromise");

        Files.copy(server.dataDir().resolve("crl/issuing-ca.crl.pem"), work.resolve("after.pem"));
        Processes.Result refused = Processes.run(work, "openssl", "verify", "-crl_check", "-CAfile", "chain.pem",
                "-CRLfile", "after.pem", "device.pem");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).contains("certificate revoked");

        // The DER that the distribution point serves, fetched with curl and read by openssl.
        ok(work, "curl", "-sS", "--fail", "--cacert", "chain.pem", "-o", "served.crl", url);
        String text = ok(work, "openssl", "crl", "-inform", "DER", "-in", "served.crl", "-noout", "-text");
        assertThat(text).contains("CRL Number").contains("Key Compromise").contains("Authority Key Identifier");
        ok(work, "openssl", "crl", "-inform", "DER", "-in", "served.crl", "-out", "served.pem");
        Processes.Result servedRefused = Processes.run(work, "openssl", "verify", "-crl_check", "-CAfile",
                "chain.pem", "-CRLfile", "served.pem", "device.pem");
        assertThat(servedRefused.output()).contains("certificate revoked");
    }

    @Test
    void the_crl_number_keeps_increasing_across_a_restart_and_on_the_schedule() throws Exception {
        TestServer own = TestServer.start(Map.of("fleetkey.crl.republish-every", "1s"));
        long beforeRestart;
        try {
            long first = number(parse(fetch(own).body()));
            await().atMost(Duration.ofSeconds(20)).until(() -> number(parse(fetch(own).body())) >= first + 2);
            beforeRestart = number(parse(fetch(own).body()));
        } finally {
            own.close();
        }
        TestServer restarted = TestServer.startIn(own.dataDir(), Map.of());
        try {
            long afterRestart = number(parse(Files.readAllBytes(restarted.dataDir().resolve("crl/issuing-ca.crl"))));
            assertThat(afterRestart).isGreaterThan(beforeRestart);
            assertThat(number(parse(fetch(restarted).body()))).isEqualTo(afterRestart);
        } finally {
            restarted.close();
        }
    }

    private static X509Certificate enroll(String deviceId, KeyPair keys) {
        String token = server.registerDevice(deviceId, "meters");
        return TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", TestPki.csr(deviceId, keys),
                deviceId, token));
    }

    private static void revoke(String deviceId, String reason) {
        HttpResponse<String> r = server.api("POST", "/api/v1/devices/" + deviceId + "/revoke",
                "{\"reason\":\"" + reason + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** GET /crl as a relying party does: no token, no client certificate. */
    private static HttpResponse<byte[]> fetch(TestServer target) throws IOException, InterruptedException {
        return target.client().send(HttpRequest.newBuilder(target.uri("/crl")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static X509CRL parse(byte[] encoded) throws Exception {
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(encoded));
    }

    private static long number(X509CRL crl) throws IOException {
        BigInteger n = ASN1Integer.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                crl.getExtensionValue(Extension.cRLNumber.getId()))).getValue();
        return n.longValueExact();
    }

    private static String crlDistributionPoint(X509Certificate certificate) throws IOException {
        var points = org.bouncycastle.asn1.x509.CRLDistPoint.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                certificate.getExtensionValue(Extension.cRLDistributionPoints.getId())));
        var names = org.bouncycastle.asn1.x509.GeneralNames.getInstance(
                points.getDistributionPoints()[0].getDistributionPoint().getName());
        return names.getNames()[0].getName().toString();
    }
}
