package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class CertificatesTest {
    private static X509Certificate selfSigned(String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair keys = g.generateKeyPair();
        X500Name name = new X500Name("CN=" + cn);
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                new Date(), new Date(System.currentTimeMillis() + 86_400_000L), name, keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    @Test
    void pkcs7_certs_only_round_trip_keeps_every_certificate() throws Exception {
        List<X509Certificate> chain = List.of(selfSigned("a"), selfSigned("b"));
        byte[] der = Certificates.toPkcs7CertsOnly(chain);
        assertThat(Certificates.fromPkcs7CertsOnly(der)).containsExactlyInAnyOrderElementsOf(chain);
    }

    @Test
    void pem_round_trip() throws Exception {
        List<X509Certificate> chain = List.of(selfSigned("a"), selfSigned("b"));
        assertThat(Certificates.fromPem(Certificates.toPem(chain))).containsExactlyElementsOf(chain);
    }

    @Test
    void garbage_gives_readable_errors() {
        assertThatThrownBy(() -> Certificates.fromPkcs7CertsOnly(new byte[]{1, 2, 3}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PKCS#7");
        assertThatThrownBy(() -> Certificates.fromDer(new byte[]{1, 2, 3}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("X.509");
        assertThatThrownBy(() -> Certificates.fromPem("hello")).hasMessageContaining("no CERTIFICATE");
    }
}
