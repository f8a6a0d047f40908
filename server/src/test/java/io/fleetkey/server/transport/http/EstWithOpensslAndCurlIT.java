package io.fleetkey.server.transport.http;

import static io.fleetkey.server.testing.Processes.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import io.fleetkey.protocol.Certificates;

import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 7030 driven by tools nobody here wrote: openssl makes the key and CSR, curl speaks EST,
 * openssl verifies what came back against the CA chain the server published.
 */
class EstWithOpensslAndCurlIT {
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
    void enroll_and_reenroll_with_openssl_and_curl() throws Exception {
        String token = server.registerDevice("meter-0001", "meters");
        String base = "https://localhost:" + server.port() + "/.well-known/est";
        Files.copy(server.caChainPem(), work.resolve("explicit-ta.pem"));

        // RFC 7030 §4.1: fetch the CA certificates (the explicit trust anchor authenticates the server).
        ok(work, "curl", "-sS", "--fail-with-body", "--cacert", "explicit-ta.pem", "-o", "cacerts.b64", base + "/cacerts");
        ok(work, "openssl", "base64", "-d", "-in", "cacerts.b64", "-out", "cacerts.p7");
        ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "cacerts.p7", "-print_certs", "-out", "cacerts.pem");
        String cacerts = Files.readString(work.resolve("cacerts.pem"));
        assertThat(cacerts).contains("Fleetkey Issuing CA").contains("Fleetkey Root CA");
        splitChain(cacerts);

        // RFC 7030 §4.2.1: simpleenroll with an EC P-256 CSR from openssl, HTTP Basic with the one-time token.
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "device.key", "-subj", "/CN=meter-0001", "-outform", "DER", "-out", "device.csr");
        ok(work, "openssl", "base64", "-in", "device.csr", "-out", "device.csr.b64");
        String status = ok(work, "curl", "-sS", "--cacert", "cacerts.pem", "--user", "meter-0001:" + token,
                "-H", "Content-Type: application/pkcs10", "--data-binary", "@device.csr.b64",
                "-o", "device.p7.b64", "-w", "%{http_code} %{content_type}", base + "/simpleenroll");
        assertThat(status).startsWith("200 application/pkcs7-mime");
        ok(work, "openssl", "base64", "-d", "-in", "device.p7.b64", "-out", "device.p7");
        ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "device.p7", "-print_certs", "-out", "device.pem");
        assertThat(ok(work, "openssl", "verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem",
                "-purpose", "sslclient", "device.pem")).contains("device.pem: OK");
        String text = ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-subject", "-ext",
                "extendedKeyUsage,keyUsage,crlDistributionPoints,authorityInfoAccess");
        assertThat(text).contains("CN = meter-0001").contains("TLS Web Client Authentication")
                .contains("Digital Signature").contains("https://localhost:8443/crl").contains("OCSP - URI:https://localhost:8443/ocsp");

        // RFC 7030 §4.2.2: simplereenroll authenticated by the issued certificate as TLS client certificate.
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "device2.key", "-subj", "/CN=meter-0001", "-outform", "DER", "-out", "device2.csr");
        ok(work, "openssl", "base64", "-in", "device2.csr", "-out", "device2.csr.b64");
        status = ok(work, "curl", "-sS", "--cacert", "cacerts.pem", "--cert", "device.pem", "--key", "device.key",
                "-H", "Content-Type: application/pkcs10", "--data-binary", "@device2.csr.b64",
                "-o", "renewed.p7.b64", "-w", "%{http_code}", base + "/simplereenroll");
        assertThat(status).isEqualTo("200");
        ok(work, "openssl", "base64", "-d", "-in", "renewed.p7.b64", "-out", "renewed.p7");
        ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "renewed.p7", "-print_certs", "-out", "renewed.pem");
        assertThat(ok(work, "openssl", "verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "renewed.pem"))
                .contains("renewed.pem: OK");
        assertThat(ok(work, "openssl", "x509", "-in", "renewed.pem", "-noout", "-serial"))
                .isNotEqualTo(ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-serial"));

        // The renewal used the new key.
        String renewedKey = ok(work, "openssl", "x509", "-in", "renewed.pem", "-noout", "-pubkey");
        String newKey = ok(work, "openssl", "pkey", "-in", "device2.key", "-pubout");
        assertThat(renewedKey.trim()).isEqualTo(newKey.trim());
    }

    @Test
    void curl_without_credentials_is_told_to_authenticate() throws Exception {
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "k.key", "-subj", "/CN=meter-0002", "-outform", "DER", "-out", "k.csr");
        ok(work, "openssl", "base64", "-in", "k.csr", "-out", "k.csr.b64");
        Files.copy(server.caChainPem(), work.resolve("ta.pem"));
        String out = ok(work, "curl", "-sS", "--cacert", "ta.pem", "-H", "Content-Type: application/pkcs10",
                "--data-binary", "@k.csr.b64", "-D", "-", "https://localhost:" + server.port()
                        + "/.well-known/est/simpleenroll");
        assertThat(out).startsWith("HTTP/1.1 401").containsIgnoringCase("WWW-Authenticate: Basic")
                .containsIgnoringCase("Fleetkey-Reason: first enrollment needs the device's one-time enrollment token (HTTP Basic");
    }

    /** Writes the self-signed certificate of the fetched chain to root.pem and the other to issuing.pem. */
    private void splitChain(String pem) throws Exception {
        List<X509Certificate> certs = Certificates.fromPem(pem);
        assertThat(certs).hasSize(2);
        for (X509Certificate c : certs) {
            boolean selfSigned = c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
            Files.writeString(work.resolve(selfSigned ? "root.pem" : "issuing.pem"), Certificates.toPem(List.of(c)));
        }
    }
}
