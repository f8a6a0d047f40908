package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509TrustManager;

import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.est.AttrOrOID;
import org.bouncycastle.asn1.est.CsrAttrs;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.est.CACertsResponse;
import org.bouncycastle.est.CSRAttributesResponse;
import org.bouncycastle.est.CSRRequestResponse;
import org.bouncycastle.est.ESTAuth;
import org.bouncycastle.est.ESTException;
import org.bouncycastle.est.ESTService;
import org.bouncycastle.est.EnrollmentResponse;
import org.bouncycastle.est.HttpAuth;
import org.bouncycastle.est.jcajce.JcaHttpAuthBuilder;
import org.bouncycastle.est.jcajce.JcaJceUtils;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 7030 driven by Bouncy Castle's own EST client ({@code org.bouncycastle.est}): an
 * implementation written against the RFC by other people, with its own TLS set-up, host name
 * check, HTTP parser and HTTP authentication.
 */
class BouncyCastleEstClientIT {
    private static final String GROUP = "bc-meters";

    private static TestServer server;
    private static X509Certificate root;
    private static X509Certificate issuing;

    @BeforeAll
    static void start() {
        // JcaJceUtils' trust manager builds paths with the provider named "BC".
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
        server = TestServer.start();
        server.createGroup(GROUP, "device");
        issuing = server.caChain().get(0);
        root = server.caChain().get(server.caChain().size() - 1);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void cacerts_come_back_to_a_client_holding_only_the_root_as_explicit_trust_anchor() throws Exception {
        CACertsResponse response = est(null).getCACerts();

        assertThat(response.isTrusted()).as("fetched over TLS checked against the explicit anchor").isTrue();
        assertThat(response.hasCertificates()).isTrue();
        List<X509Certificate> certs = toX509(ESTService.storeToArray(response.getCertificateStore()));
        assertThat(certs).hasSize(2).containsExactlyInAnyOrder(issuing, root);

        // RFC 7030 §4.1.3: the client checks the returned certificates itself, with BC's verifiers.
        X509CertificateHolder issuingHolder = new X509CertificateHolder(issuing.getEncoded());
        X509CertificateHolder rootHolder = new X509CertificateHolder(root.getEncoded());
        assertThat(rootHolder.isSignatureValid(new JcaContentVerifierProviderBuilder()
                .setProvider(BouncyCastleProvider.PROVIDER_NAME).build(rootHolder))).as("root is self-signed").isTrue();
        assertThat(issuingHolder.isSignatureValid(new JcaContentVerifierProviderBuilder()
                .setProvider(BouncyCastleProvider.PROVIDER_NAME).build(rootHolder))).as("issuing CA signed by root").isTrue();
        assertThat(issuingHolder.getIssuer()).isEqualTo(rootHolder.getSubject());
        assertThat(response.hasCRLs() ? response.getCrlStore().getMatches(null) : List.of()).isEmpty();
    }

    @Test
    void cacerts_are_served_under_an_arbitrary_label_too() throws Exception {
        CACertsResponse response = new JsseESTServiceBuilder("localhost:" + server.port(), trustingRoot())
                .withTimeout(10_000).withLabel("meters").build().getCACerts();

        assertThat(toX509(ESTService.storeToArray(response.getCertificateStore())))
                .containsExactlyInAnyOrder(issuing, root);
    }

    @Test
    void csr_attributes_ask_for_ecdsa_with_sha256_over_p256() throws Exception {
        CSRRequestResponse response = est(null).getCSRAttributes();

        assertThat(response.hasAttributesResponse()).isTrue();
        CSRAttributesResponse attributes = response.getAttributesResponse();
        assertThat(attributes.isEmpty()).isFalse();
        assertThat(attributes.hasRequirement(X9ObjectIdentifiers.ecdsa_with_SHA256)).isTrue();
        assertThat(attributes.isAttribute(X9ObjectIdentifiers.ecdsa_with_SHA256)).isFalse();
        assertThat(attributes.hasRequirement(X9ObjectIdentifiers.id_ecPublicKey)).isTrue();
        assertThat(attributes.isAttribute(X9ObjectIdentifiers.id_ecPublicKey)).isTrue();
        Attribute keyType = Arrays.stream(CsrAttrs.getInstance(attributes.getEncoded()).getAttrOrOIDs())
                .filter(a -> !a.isOid()).map(AttrOrOID::getAttribute)
                .filter(a -> a.getAttrType().equals(X9ObjectIdentifiers.id_ecPublicKey))
                .findFirst().orElseThrow();
        assertThat(keyType.getAttrValues().toArray()).containsExactly(SECObjectIdentifiers.secp256r1);
    }

    @Test
    void enroll_with_http_basic_then_reenroll_with_the_issued_certificate() throws Exception {
        String deviceId = "bc-meter-0001";
        String token = server.registerDevice(deviceId, GROUP);
        KeyPair keys = TestPki.p256();

        // RFC 7030 §4.2.1 with §3.2.3 HTTP Basic (device id + one-time token).
        EnrollmentResponse enrolled = est(null).simpleEnroll(false, csr(deviceId, keys), basic(deviceId, token));

        X509Certificate certificate = single(enrolled);
        assertThat(commonName(certificate)).isEqualTo(deviceId);
        assertThat(certificate.getPublicKey()).isEqualTo(keys.getPublic());
        assertChainsToRoot(certificate);

        // RFC 7030 §4.2.2: re-enrollment authenticated by the current certificate in the TLS handshake.
        KeyPair newKeys = TestPki.p256();
        EnrollmentResponse renewed = est(keyManagers(keys, certificate))
                .simpleEnroll(true, csr(deviceId, newKeys), null);

        X509Certificate renewal = single(renewed);
        assertThat(commonName(renewal)).isEqualTo(deviceId);
        assertThat(renewal.getPublicKey()).isEqualTo(newKeys.getPublic());
        assertThat(renewal.getSerialNumber()).isNotEqualTo(certificate.getSerialNumber());
        assertChainsToRoot(renewal);
    }

    /**
     * BC's {@link HttpAuth} sends the request without credentials and answers the 401 challenge
     * with them; the challenge carries its reason in a header and no body, as that client
     * needs (it closes the challenge without reading a body).
     */
    @Test
    void challenge_driven_http_basic_of_bouncy_castle_enrolls() throws Exception {
        String deviceId = "bc-meter-0005";
        String token = server.registerDevice(deviceId, GROUP);
        KeyPair keys = TestPki.p256();
        HttpAuth challenged = new JcaHttpAuthBuilder(deviceId, token.toCharArray()).build();
        X509Certificate certificate = single(est(null).simpleEnroll(false, csr(deviceId, keys), challenged));
        assertThat(commonName(certificate)).isEqualTo(deviceId);
        assertThat(certificate.getPublicKey()).isEqualTo(keys.getPublic());
    }

    @Test
    void enrollment_with_a_wrong_token_is_refused_with_401() throws Exception {
        String deviceId = "bc-meter-0002";
        server.registerDevice(deviceId, GROUP);

        ESTException e = catchThrowableOfType(() -> est(null).simpleEnroll(false, csr(deviceId, TestPki.p256()),
                basic(deviceId, "not-the-token")), ESTException.class);

        assertThat(e).isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(401);
    }

    @Test
    void a_used_token_does_not_buy_a_second_certificate_for_another_key() throws Exception {
        String deviceId = "bc-meter-0003";
        String token = server.registerDevice(deviceId, GROUP);
        single(est(null).simpleEnroll(false, csr(deviceId, TestPki.p256()), basic(deviceId, token)));

        ESTException e = catchThrowableOfType(() -> est(null).simpleEnroll(false, csr(deviceId, TestPki.p256()),
                basic(deviceId, token)), ESTException.class);

        assertThat(e).isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(403);
    }

    @Test
    void reenrollment_without_a_client_certificate_is_refused_with_401() throws Exception {
        ESTException e = catchThrowableOfType(
                () -> est(null).simpleEnroll(true, csr("bc-meter-0004", TestPki.p256()), null), ESTException.class);

        assertThat(e).isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(401);
    }

    @Test
    void a_client_anchored_elsewhere_does_not_accept_the_server() {
        TestPki.Ca stranger = TestPki.ca("Somebody Else's Root");
        ESTService est = new JsseESTServiceBuilder("localhost:" + server.port(),
                JcaJceUtils.getCertPathTrustManager(Set.of(new TrustAnchor(stranger.certificate(), null)), null))
                .withTimeout(10_000).build();

        ESTException e = catchThrowableOfType(est::getCACerts, ESTException.class);

        assertThat(e).isNotNull();
    }

    // ---- helpers ---------------------------------------------------------------------------

    /** An EST client for this server trusting only its root, with an optional TLS client identity. */
    private static ESTService est(KeyManager[] clientIdentity) {
        JsseESTServiceBuilder builder = new JsseESTServiceBuilder("localhost:" + server.port(), trustingRoot())
                .withTimeout(10_000);
        if (clientIdentity != null) {
            builder.withKeyManagers(clientIdentity);
        }
        return builder.build();
    }

    /** HTTP Basic sent with the request itself (RFC 7617 §2.2 lets a client send it preemptively, as curl does). */
    private static ESTAuth basic(String deviceId, String token) {
        String credentials = Base64.getEncoder().encodeToString(
                (deviceId + ":" + token).getBytes(StandardCharsets.UTF_8));
        return request -> request.setHeader("Authorization", "Basic " + credentials);
    }

    private static X509TrustManager[] trustingRoot() {
        return JcaJceUtils.getCertPathTrustManager(Set.of(new TrustAnchor(root, null)), null);
    }

    private static KeyManager[] keyManagers(KeyPair keys, X509Certificate certificate) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] password = "device".toCharArray();
        ks.setKeyEntry("device", keys.getPrivate(), password,
                server.withIssuingCa(certificate).toArray(X509Certificate[]::new));
        KeyManagerFactory kmf = JcaJceUtils.createKeyManagerFactory(KeyManagerFactory.getDefaultAlgorithm(), null,
                ks, password);
        return kmf.getKeyManagers();
    }

    private static PKCS10CertificationRequest csr(String deviceId, KeyPair keys) throws IOException {
        return new PKCS10CertificationRequest(TestPki.csr(deviceId, keys));
    }

    private static X509Certificate single(EnrollmentResponse response) throws Exception {
        assertThat(response.isCompleted()).isTrue();
        List<X509Certificate> certs = toX509(ESTService.storeToArray(response.getStore()));
        assertThat(certs).hasSize(1);
        return certs.get(0);
    }

    private static List<X509Certificate> toX509(X509CertificateHolder[] holders) throws Exception {
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        X509Certificate[] out = new X509Certificate[holders.length];
        for (int i = 0; i < holders.length; i++) {
            out[i] = converter.getCertificate(holders[i]);
        }
        return Arrays.asList(out);
    }

    private static String commonName(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        return IETFUtils.valueToString(subject.getRDNs(BCStyle.CN)[0].getFirst().getValue());
    }

    private static void assertChainsToRoot(X509Certificate leaf) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(leaf, issuing)), params);
    }
}
