package io.fleetkey.simulator.factory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.CsrAttestation;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.simulator.testing.ServerProcess;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The factory against a real Fleetkey server (its jar, started as its own process): a maker
 * CA and IDevIDs made, one revoked, all registered on a group; the IDevIDs then enroll over
 * HTTPS as TLS client certificates and as signers of attestation evidence, and the revoked one
 * is refused. The server jar is built by the reactor before this module's tests run.
 */
class FactoryWithServerTest {
    private static final String ADMIN_TOKEN = "factory-test-admin-token-0123456789";
    private static final String PASSWORD = "factory test password 0123";
    private static final Map<String, String> ENV = Map.of(FactoryCommand.PASSWORD_ENV, PASSWORD,
            FactoryCommand.ADMIN_TOKEN_ENV, ADMIN_TOKEN);

    @TempDir
    static Path temp;
    private static ServerProcess server;
    private static String base;
    private static Path chain;
    private static Path maker;

    @BeforeAll
    static void startServerAndMakeFleet() throws Exception {
        server = ServerProcess.start(temp, ADMIN_TOKEN);
        base = server.base();
        chain = server.chain();

        maker = temp.resolve("acme");
        run("init", "--dir", maker.toString(), "--maker", "Acme Devices");
        run("issue", "--dir", maker.toString(), "--devices", "acme-1,acme-2,acme-3", "--model", "GW-4");
        run("revoke", "--dir", maker.toString(), "--devices", "acme-3");
        run("register", "--dir", maker.toString(), "--server", base, "--ca-cert", chain.toString(), "--group", "acme");
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static void run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = new FactoryCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8), ENV).run(List.of(args));
        assertThat(status).as("factory " + String.join(" ", args) + ":\n" + out.toString(StandardCharsets.UTF_8))
                .isZero();
    }

    /** An HTTPS client trusting only the server's CA chain, presenting the device's IDevID when given one. */
    private static HttpClient client(KeyStore idevid) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate c : Certificates.fromPem(Files.readString(chain))) {
            trust.setCertificateEntry("ca-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = null;
        if (idevid != null) {
            kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(idevid, PASSWORD.toCharArray());
        }
        ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static KeyStore idevid(String deviceId) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(maker.resolve("devices").resolve(deviceId + ".p12"))) {
            ks.load(in, PASSWORD.toCharArray());
        }
        return ks;
    }

    private static HttpResponse<String> simpleEnroll(HttpClient client, byte[] csr) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/est/simpleenroll"))
                .header("Content-Type", "application/pkcs10").header("Content-Transfer-Encoding", "base64")
                .POST(HttpRequest.BodyPublishers.ofString(Base64.getEncoder().encodeToString(csr)))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> api(String method, String path, String json) throws Exception {
        return client(null).send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(json)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static JcaPKCS10CertificationRequestBuilder csrBuilder(String deviceId, KeyPair keys) {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + deviceId), keys.getPublic());
    }

    private static byte[] sign(org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder builder, KeyPair keys)
            throws Exception {
        return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
    }

    @Test
    void an_idevid_from_the_factory_enrolls_as_a_tls_client_certificate() throws Exception {
        KeyPair keys = p256();
        HttpResponse<String> r = simpleEnroll(client(idevid("acme-1")), sign(csrBuilder("acme-1", keys), keys));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @Test
    void an_idevid_the_factory_revoked_is_refused_through_the_maker_crl() throws Exception {
        KeyPair keys = p256();
        HttpResponse<String> r = simpleEnroll(client(idevid("acme-3")), sign(csrBuilder("acme-3", keys), keys));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        assertThat(r.body()).contains("revoked by its maker");
    }

    @Test
    void an_idevid_from_the_factory_signs_attestation_evidence_the_server_accepts() throws Exception {
        String firmware = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest("acme firmware 2.4.1".getBytes(StandardCharsets.UTF_8)));
        assertThat(api("POST", "/api/v1/groups", "{\"name\":\"acme-attested\",\"profile\":\"device\",\"makerCas\":["
                + "\"" + Files.readString(maker.resolve("maker-ca.pem")).replace("\n", "\\n") + "\"]}").statusCode())
                .isEqualTo(201);
        assertThat(api("PATCH", "/api/v1/groups/acme-attested/attestation",
                "{\"mode\":\"required\",\"allowedModels\":[\"GW-4\"]}").statusCode()).isEqualTo(200);
        assertThat(api("POST", "/api/v1/groups/acme-attested/attestation/digests",
                "{\"component\":\"firmware\",\"sha256\":\"" + firmware + "\"}").statusCode()).isEqualTo(201);
        // A device made after the batch, registered on the attesting group by hand.
        String id = "acme-9";
        run("issue", "--dir", maker.toString(), "--devices", id, "--model", "GW-4");
        assertThat(api("POST", "/api/v1/devices", "{\"deviceId\":\"" + id + "\",\"group\":\"acme-attested\"}")
                .statusCode()).isEqualTo(201);

        KeyStore ks = idevid(id);
        PrivateKey idevidKey = (PrivateKey) ks.getKey(FactoryDirectory.DEVICE_ALIAS, PASSWORD.toCharArray());
        List<X509Certificate> idevidChain = Arrays.stream(ks.getCertificateChain(FactoryDirectory.DEVICE_ALIAS))
                .map(c -> (X509Certificate) c).toList();
        HttpResponse<String> nonceAnswer = client(null).send(HttpRequest.newBuilder(
                URI.create(base + "/.well-known/est/nonce")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(nonceAnswer.statusCode()).isEqualTo(200);
        String nonce = nonceAnswer.body().replaceAll(".*\"nonce\"\\s*:\\s*\"([^\"]+)\".*", "$1");

        KeyPair keys = p256();
        String spki = DeviceStatement.keyBinding(keys.getPublic());
        String jwt = DeviceStatement.sign(new DeviceStatement.Claims(id, spki, Instant.now(), nonce, new Evidence("GW-4",
                "acme-firmware", "2.4.1", Evidence.DebugStatus.DISABLED, List.of(new Evidence.Measurement("firmware",
                firmware)))), idevidKey);
        AttestationBundle bundle = new AttestationBundle(List.of(AttestationBundle.Statement.eatJwt(jwt)),
                idevidChain.subList(0, 1));
        byte[] csr = sign(csrBuilder(id, keys).addAttribute(new ASN1ObjectIdentifier(CsrAttestation.ID_AA_ATTESTATION),
                ASN1Primitive.fromByteArray(bundle.encoded())), keys);
        HttpResponse<String> r = simpleEnroll(client(null), csr);
        assertThat(r.statusCode()).as(r.body() + r.headers().map()).isEqualTo(200);
    }
}
