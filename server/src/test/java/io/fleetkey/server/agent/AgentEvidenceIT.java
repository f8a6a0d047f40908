package io.fleetkey.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.AttestedCsr;
import io.fleetkey.agent.DeviceIdentity;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.EvidenceSource;
import io.fleetkey.agent.FactoryIdentity;
import io.fleetkey.agent.StatementSigner;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.Evidence.DebugStatus;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent's evidence against the real server over HTTPS: the IDevID read from a PKCS#12 file
 * as the factory writes it, real files measured on disk, the attested CSR built by the agent's
 * own classes and sent with its EST client. The group requires attestation and knows the good
 * firmware's digest; a device whose firmware file changed is refused, and a renewal is signed
 * by the current Fleetkey key over the device's mTLS session.
 */
class AgentEvidenceIT {
    private static final String GROUP = "agent-attested";
    private static final String MODEL = "M-100";
    private static final char[] FACTORY_PASSWORD = "factory-password-for-tests".toCharArray();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final byte[] GOOD_FIRMWARE = firmwareImage(1);

    private static TestServer server;
    private static TestPki.Ca maker;

    @TempDir
    Path device;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        maker = TestPki.ca("Agent Evidence Maker CA");
        created(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", GROUP, "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate())))))));
        ok(server.api("PATCH", "/api/v1/groups/" + GROUP + "/attestation", Json.write(Map.of("mode", "required",
                "onWarning", "refuse", "allowedModels", List.of(MODEL), "minimumVersion", "2.0.0"))));
        created(server.api("POST", "/api/v1/groups/" + GROUP + "/attestation/digests", Json.write(Map.of(
                "component", "firmware", "sha256", sha256Hex(GOOD_FIRMWARE), "note", "release 2.4.1"))));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---- the device ------------------------------------------------------------------------------

    /** A registered device: its id, one-time token, and the PKCS#12 file its maker put on it. */
    private record Device(String id, String token, Path idevidFile) {
        FactoryIdentity factoryIdentity() throws Exception {
            return FactoryIdentity.load(idevidFile, FACTORY_PASSWORD.clone());
        }
    }

    private Device registered(String idevidKey) throws Exception {
        String id = "agent-dev-" + COUNTER.incrementAndGet();
        String token = server.registerDevice(id, GROUP);
        KeyPair keys = keyPair(idevidKey);
        X509Certificate idevid = maker.issue("CN=" + id + ", SERIALNUMBER=" + id, keys, Duration.ofDays(3650));
        Path p12 = device.resolve(id + ".p12");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(FactoryIdentity.ALIAS, keys.getPrivate(), FACTORY_PASSWORD,
                new Certificate[]{idevid, maker.certificate()});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.store(out, FACTORY_PASSWORD);
        Files.write(p12, out.toByteArray());
        return new Device(id, token, p12);
    }

    /** The device's files as the agent's configuration names them, the firmware image given. */
    private EvidenceSource evidenceOn(byte[] firmware) throws Exception {
        Path fw = Files.write(device.resolve("firmware.img"), firmware);
        Path jar = Files.write(device.resolve("fleetkey-agent.jar"), new byte[]{'P', 'K', 3, 4});
        Path conf = Files.writeString(device.resolve("agent.conf"), "server=https://localhost\n");
        return EvidenceSource.fromSettings(Map.of(
                EvidenceSource.MODEL, MODEL,
                EvidenceSource.SOFTWARE_NAME, "acme-meter-fw",
                EvidenceSource.SOFTWARE_VERSION, "2.4.1",
                EvidenceSource.DEBUG, "disabled-permanently",
                EvidenceSource.MEASURE, "firmware=" + fw + ",agent.jar=" + jar + ",config=" + conf));
    }

    private static byte[] firmwareImage(long seed) {
        byte[] image = new byte[256 * 1024];
        new Random(seed).nextBytes(image);
        return image;
    }

    private static String sha256Hex(byte[] content) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
    }

    private static KeyPair keyPair(String type) throws Exception {
        return switch (type) {
            case "p256" -> ec("secp256r1");
            case "p384" -> ec("secp384r1");
            case "ed25519" -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            case "rsa2048" -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
                yield g.generateKeyPair();
            }
            default -> throw new IllegalArgumentException(type);
        };
    }

    private static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    /** A nonce from the HTTPS door, fetched with a plain JDK client. */
    private static String nonce() throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(AgentTls.trusting(server.caChain())).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/.well-known/est/nonce")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.field(r.body(), "nonce");
    }

    private static EstHttpsClient est(SSLContext tls) {
        return new EstHttpsClient(URI.create("https://localhost:" + server.port()), tls);
    }

    private static SSLContext noClientCertificate() {
        return AgentTls.trusting(server.caChain());
    }

    /**
     * simpleenroll with no credentials but the statement: the IDevID's signature authenticates
     * the request. Sent with a plain HTTPS POST, to see the door's own answer (status and headers).
     */
    private static HttpResponse<String> enrollWithoutCredentials(byte[] csr) {
        return server.est(server.client(), "simpleenroll", csr, null, null);
    }

    private static String latest(String deviceId, String field) {
        return Json.field(ok(server.api("GET", "/api/v1/devices/" + deviceId + "/attestations", null)),
                "items[0]." + field);
    }

    private static String ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static String created(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r.body();
    }

    // ---- first enrollment --------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"p256", "p384", "ed25519", "rsa2048"})
    void evidence_signed_by_the_idevid_from_its_pkcs12_file_is_issued_without_a_token(String keyType)
            throws Exception {
        Device d = registered(keyType);
        KeyPair keys = keyPair(keyType);
        byte[] csr = AttestedCsr.forDevice(d.id(), keys).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect()).build();

        X509Certificate issued = TestServer.issuedCertificate(enrollWithoutCredentials(csr));

        assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(issued.getSubjectX500Principal().getName()).isEqualTo("CN=" + d.id());
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
        assertThat(latest(d.id(), "decision")).isEqualTo("issued");
    }

    @Test
    void evidence_next_to_the_token_is_issued_through_the_agent_est_client() throws Exception {
        Device d = registered("p256");
        KeyPair keys = keyPair("p256");
        byte[] csr = AttestedCsr.forDevice(d.id(), keys).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect()).challengePassword(d.token()).build();

        X509Certificate issued = est(noClientCertificate()).simpleEnroll(csr);

        assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
    }

    @Test
    void the_token_in_the_challenge_password_with_evidence_is_issued() throws Exception {
        Device d = registered("ed25519");
        KeyPair keys = keyPair("p256");
        byte[] csr = AttestedCsr.forDevice(d.id(), keys).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect()).challengePassword(d.token()).build();

        assertThat(TestServer.issuedCertificate(enrollWithoutCredentials(csr)).getPublicKey())
                .isEqualTo(keys.getPublic());
    }

    @Test
    void a_changed_firmware_file_is_refused_as_attestation_failed() throws Exception {
        Device d = registered("p256");
        EvidenceSource changed = evidenceOn(firmwareImage(2));
        byte[] csr = AttestedCsr.forDevice(d.id(), keyPair("p256")).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(changed.collect()).build();

        assertThatThrownBy(() -> est(noClientCertificate()).simpleEnroll(csr))
                .isInstanceOfSatisfying(EstException.class, e -> {
                    assertThat(e.code()).contains(FailureCode.ATTESTATION_FAILED);
                    assertThat(e.reason()).contains("firmware");
                });
        HttpResponse<String> withoutToken = enrollWithoutCredentials(csr);
        assertThat(withoutToken.statusCode()).isEqualTo(403);
        assertThat(withoutToken.headers().firstValue("Fleetkey-Error")).contains(FailureCode.ATTESTATION_FAILED.name());
        assertThat(latest(d.id(), "result")).isEqualTo("contraindicated");

        // Put the good image back: the same device, measured again, is issued.
        byte[] good = AttestedCsr.forDevice(d.id(), keyPair("p256")).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect()).build();
        assertThat(enrollWithoutCredentials(good).statusCode()).isEqualTo(200);
    }

    @Test
    void a_statement_without_the_measurements_the_group_needs_is_refused() throws Exception {
        Device d = registered("p256");
        byte[] csr = AttestedCsr.forDevice(d.id(), keyPair("p256")).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).build();

        HttpResponse<String> r = enrollWithoutCredentials(csr);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Fleetkey-Error")).contains(FailureCode.ATTESTATION_FAILED.name());
    }

    // ---- renewal -----------------------------------------------------------------------------------

    @Test
    void renewal_evidence_signed_by_the_current_key_over_mtls_is_issued() throws Exception {
        Device d = registered("p256");
        KeyPair keys = keyPair("p256");
        X509Certificate first = TestServer.issuedCertificate(enrollWithoutCredentials(AttestedCsr.forDevice(d.id(), keys)
                .signedBy(StatementSigner.of(d.factoryIdentity())).nonce(nonce())
                .evidence(evidenceOn(GOOD_FIRMWARE).collect()).build()));
        DeviceIdentity current = new DeviceIdentity(keys.getPrivate(), server.withIssuingCa(first));
        EstHttpsClient mtls = est(AgentTls.trusting(server.caChain(), () -> current));

        KeyPair next = keyPair("p256");
        X509Certificate renewed = mtls.simpleReenroll(AttestedCsr.forDevice(d.id(), next)
                .signedBy(StatementSigner.of(current)).nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect())
                .build());

        assertThat(renewed.getPublicKey()).isEqualTo(next.getPublic());
        assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(latest(d.id(), "operation")).isEqualTo("renew");
        assertThat(latest(d.id(), "result")).isEqualTo("affirming");
    }

    @Test
    void a_renewal_with_changed_firmware_is_refused_as_attestation_failed() throws Exception {
        Device d = registered("p256");
        KeyPair keys = keyPair("p256");
        X509Certificate first = TestServer.issuedCertificate(enrollWithoutCredentials(AttestedCsr.forDevice(d.id(), keys)
                .signedBy(StatementSigner.of(d.factoryIdentity())).nonce(nonce())
                .evidence(evidenceOn(GOOD_FIRMWARE).collect()).build()));
        DeviceIdentity current = new DeviceIdentity(keys.getPrivate(), server.withIssuingCa(first));
        byte[] csr = AttestedCsr.forDevice(d.id(), keyPair("p256")).signedBy(StatementSigner.of(current))
                .nonce(nonce()).evidence(evidenceOn(firmwareImage(3)).collect()).build();

        assertThatThrownBy(() -> est(AgentTls.trusting(server.caChain(), () -> current)).simpleReenroll(csr))
                .isInstanceOfSatisfying(EstException.class,
                        e -> assertThat(e.code()).contains(FailureCode.ATTESTATION_FAILED));
    }

    @Test
    void a_renewal_statement_signed_by_the_idevid_instead_of_the_presented_certificate_is_refused() throws Exception {
        Device d = registered("p256");
        KeyPair keys = keyPair("p256");
        X509Certificate first = TestServer.issuedCertificate(enrollWithoutCredentials(AttestedCsr.forDevice(d.id(), keys)
                .signedBy(StatementSigner.of(d.factoryIdentity())).nonce(nonce())
                .evidence(evidenceOn(GOOD_FIRMWARE).collect()).build()));
        DeviceIdentity current = new DeviceIdentity(keys.getPrivate(), server.withIssuingCa(first));
        // docs/attestation.md step 7: with a client certificate on the channel, that certificate signs.
        byte[] csr = AttestedCsr.forDevice(d.id(), keyPair("p256")).signedBy(StatementSigner.of(d.factoryIdentity()))
                .nonce(nonce()).evidence(evidenceOn(GOOD_FIRMWARE).collect()).build();

        assertThatThrownBy(() -> est(AgentTls.trusting(server.caChain(), () -> current)).simpleReenroll(csr))
                .isInstanceOfSatisfying(EstException.class,
                        e -> assertThat(e.code()).contains(FailureCode.NOT_AUTHENTICATED));
    }
}
