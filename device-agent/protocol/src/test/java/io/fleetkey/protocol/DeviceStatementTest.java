package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

import org.junit.jupiter.api.Test;

class DeviceStatementTest {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private static final DeviceStatement.Claims CLAIMS = new DeviceStatement.Claims("meter-0001", "ab".repeat(32), NOW,
            "n-123");

    @Test
    void ec_and_rsa_keys_sign_statements_that_verify_with_their_public_key() throws Exception {
        for (KeyPair keys : new KeyPair[]{ec("secp256r1"), ec("secp384r1"), rsa()}) {
            String jwt = DeviceStatement.sign(CLAIMS, keys.getPrivate());
            assertThat(DeviceStatement.verify(jwt, keys.getPublic())).isEqualTo(CLAIMS);
            String header = new String(Base64.getUrlDecoder().decode(jwt.substring(0, jwt.indexOf('.'))));
            assertThat(header).contains("\"typ\":\"eat+jwt\"");
        }
    }

    @Test
    void another_key_or_a_changed_claim_does_not_verify() {
        KeyPair keys = ec("secp256r1");
        String jwt = DeviceStatement.sign(CLAIMS, keys.getPrivate());
        assertThatThrownBy(() -> DeviceStatement.verify(jwt, ec("secp256r1").getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining("does not verify");
        String[] parts = jwt.split("\\.");
        String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"sub\":\"meter-0002\",\"iat\":1,\"spki_sha256\":\"00\"}".getBytes()) + "." + parts[2];
        assertThatThrownBy(() -> DeviceStatement.verify(forged, keys.getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class);
        // A P-384 key cannot stand for a P-256 signature.
        assertThatThrownBy(() -> DeviceStatement.verify(jwt, ec("secp384r1").getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining("does not fit");
        assertThatThrownBy(() -> DeviceStatement.verify("not a jwt", keys.getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining("not a JWT");
    }

    private static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final String FIRMWARE = "55" + "1f".repeat(31);

    private static DeviceStatement.Claims withEvidence() {
        return new DeviceStatement.Claims("gw-7", "cd".repeat(32), NOW, "n-9", new Evidence("PiGateway 4",
                "gw-firmware", "2.4.1", Evidence.DebugStatus.DISABLED_PERMANENTLY, java.util.List.of(
                new Evidence.Measurement("firmware", FIRMWARE, "2.4.1"),
                new Evidence.Measurement("config", "00".repeat(32)))));
    }

    @Test
    void evidence_claims_survive_signing_and_verification() throws Exception {
        KeyPair keys = ec("secp256r1");
        DeviceStatement.Claims claims = withEvidence();
        assertThat(DeviceStatement.verify(DeviceStatement.sign(claims, keys.getPrivate()), keys.getPublic()))
                .isEqualTo(claims);
    }

    @Test
    void evidence_claims_have_the_rfc_9711_json_forms() throws Exception {
        String jwt = DeviceStatement.sign(withEvidence(), ec("secp256r1").getPrivate());
        // Read back with a plain JSON parser, not the production decoder.
        var payload = com.nimbusds.jose.util.JSONObjectUtils.parse(new String(Base64.getUrlDecoder()
                .decode(jwt.split("\\.")[1]), java.nio.charset.StandardCharsets.UTF_8));
        assertThat(new String(Base64.getUrlDecoder().decode((String) payload.get("hwmodel")))).isEqualTo("PiGateway 4");
        assertThat(payload.get("swname")).isEqualTo("gw-firmware");
        assertThat(payload.get("swversion")).isEqualTo(java.util.List.of("2.4.1"));
        assertThat(payload.get("dbgstat")).isEqualTo("disabled-permanently");
        assertThat(payload.get("eat_profile")).isEqualTo(CsrAttestation.FLEETKEY_EAT_JWT);
        var measurements = (java.util.List<?>) payload.get("measurements");
        assertThat(measurements).hasSize(2);
        var first = (java.util.List<?>) measurements.get(0);
        assertThat(((Number) first.get(0)).intValue()).isEqualTo(296);
        var component = com.nimbusds.jose.util.JSONObjectUtils.parse((String) first.get(1));
        assertThat(component.get("id")).isEqualTo(java.util.List.of("firmware", java.util.List.of("2.4.1")));
        var digest = (java.util.List<?>) component.get("digested-measurement");
        assertThat(((Number) digest.get(0)).intValue()).isEqualTo(1);
        assertThat(java.util.HexFormat.of().formatHex(Base64.getUrlDecoder().decode((String) digest.get(1))))
                .isEqualTo(FIRMWARE);
    }

    @Test
    void malformed_evidence_claims_are_refused_with_the_claim_named() throws Exception {
        KeyPair keys = ec("secp256r1");
        var base = new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("gw-7").issueTime(new java.util.Date())
                .claim(DeviceStatement.KEY_BINDING, "cd".repeat(32));
        String[][] cases = {
            {"dbgstat", "\"maybe\"", "dbgstat"},
            {"swversion", "\"2.4\"", "swversion"},
            {"measurements", "[[296, \"{\\\"id\\\":[\\\"fw\\\"],\\\"digested-measurement\\\":[7,\\\"AA\\\"]}\"]]", "SHA-256"},
            {"measurements", "[[50, \"{}\"]]", "296"},
        };
        for (String[] c : cases) {
            var set = base.claim(c[0], com.nimbusds.jose.util.JSONObjectUtils.parse("{\"v\":" + c[1] + "}").get("v"))
                    .build();
            var jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(
                    com.nimbusds.jose.JWSAlgorithm.ES256).type(new com.nimbusds.jose.JOSEObjectType("eat+jwt")).build(),
                    set);
            jwt.sign(new com.nimbusds.jose.crypto.ECDSASigner((java.security.interfaces.ECPrivateKey) keys.getPrivate()));
            assertThatThrownBy(() -> DeviceStatement.verify(jwt.serialize(), keys.getPublic())).as(c[0] + " " + c[1])
                    .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining(c[2]);
            base.claim(c[0], null);
        }
    }

    @Test
    void ed25519_keys_from_the_jdk_or_bouncy_castle_sign_statements_as_ed25519() throws Exception {
        KeyPair jdk = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair bc = KeyPairGenerator.getInstance("Ed25519", new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .generateKeyPair();
        for (KeyPair keys : new KeyPair[]{jdk, bc}) {
            String jwt = DeviceStatement.sign(CLAIMS, keys.getPrivate());
            String header = new String(Base64.getUrlDecoder().decode(jwt.substring(0, jwt.indexOf('.'))));
            assertThat(header).contains("\"alg\":\"Ed25519\"");
            assertThat(DeviceStatement.verify(jwt, keys.getPublic())).isEqualTo(CLAIMS);
            assertThat(DeviceStatement.verify(jwt, keys.getPublic(), new org.bouncycastle.jce.provider.BouncyCastleProvider()))
                    .isEqualTo(CLAIMS);
        }
        // A signature of another Ed25519 key does not verify.
        String jwt = DeviceStatement.sign(CLAIMS, jdk.getPrivate());
        assertThatThrownBy(() -> DeviceStatement.verify(jwt, bc.getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining("does not verify");
        // An Ed25519 signature cannot pass for an EC key's.
        assertThatThrownBy(() -> DeviceStatement.verify(jwt, ec("secp256r1").getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class).hasMessageContaining("does not fit");
    }
}
