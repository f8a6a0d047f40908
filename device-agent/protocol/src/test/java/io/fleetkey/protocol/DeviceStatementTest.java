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
}
