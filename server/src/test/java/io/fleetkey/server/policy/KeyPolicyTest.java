package io.fleetkey.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import io.fleetkey.server.testing.TestPki;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

class KeyPolicyTest {
    private final KeyPolicy policy = new KeyPolicy(2048);
    private final CertificateProfile all = new CertificateProfile("device", Duration.ofDays(90), Set.of("clientAuth"),
            false, EnumSet.allOf(AllowedKey.class));

    private static SubjectPublicKeyInfo spki(KeyPair keys) {
        return SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
    }

    @Test
    void allowed_keys_pass() {
        assertThat(policy.check(spki(TestPki.p256()), all)).isEmpty();
        assertThat(policy.check(spki(TestPki.ec("secp384r1")), all)).isEmpty();
        assertThat(policy.check(spki(TestPki.ed25519()), all)).isEmpty();
        assertThat(policy.check(spki(TestPki.rsa(2048)), all)).isEmpty();
    }

    @Test
    void weak_and_unknown_keys_are_named_in_the_refusal() {
        assertThat(policy.check(spki(TestPki.rsa(1024)), all)).hasValueSatisfying(r -> assertThat(r).contains("RSA 1024-bit"));
        assertThat(policy.check(spki(TestPki.ec("secp192r1")), all)).hasValueSatisfying(r -> assertThat(r).contains("secp192r1"));
        assertThat(policy.check(spki(TestPki.ec("secp521r1")), all)).hasValueSatisfying(r -> assertThat(r).contains("secp521r1"));
    }

    @Test
    void profile_narrows_the_allowed_keys() {
        CertificateProfile ecOnly = new CertificateProfile("ec", Duration.ofDays(1), Set.of("clientAuth"), false,
                EnumSet.of(AllowedKey.EC_P256));
        assertThat(policy.check(spki(TestPki.ed25519()), ecOnly))
                .hasValueSatisfying(r -> assertThat(r).contains("Ed25519").contains("profile 'ec'"));
    }

    @Test
    void refusal_of_an_unknown_type_names_the_configured_rsa_minimum() throws Exception {
        KeyPair ed448 = java.security.KeyPairGenerator.getInstance("Ed448", new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .generateKeyPair();
        KeyPolicy strict = new KeyPolicy(3072);
        assertThat(strict.checkType(strict.describe(spki(ed448))))
                .hasValueSatisfying(r -> assertThat(r).contains("Ed448").contains("RSA of 3072 bits"));
        assertThat(strict.checkType(strict.describe(spki(TestPki.p256())))).isEmpty();
    }

    @Test
    void rsa_minimum_cannot_be_configured_below_2048() {
        assertThatThrownBy(() -> new KeyPolicy(1024)).hasMessageContaining("2048");
        assertThat(new KeyPolicy(3072).check(spki(TestPki.rsa(2048)), all)).isPresent();
    }
}
