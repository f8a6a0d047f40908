package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class AttestationBundleTest {
    private static final KeyPair KEYS = p256();
    private static final X509Certificate CERT = selfSigned(KEYS);

    @Test
    void the_wire_format_is_the_drafts_asn1_read_by_plain_bouncy_castle() throws Exception {
        byte[] der = new AttestationBundle(List.of(AttestationBundle.Statement.eatJwt("a.b.c")), List.of(CERT)).encoded();

        // AttestationBundle ::= SEQUENCE { attestations SEQUENCE OF AttestationStatement, certs SEQUENCE OF Certificate }
        ASN1Sequence bundle = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(der));
        assertThat(bundle.size()).isEqualTo(2);
        ASN1Sequence statement = ASN1Sequence.getInstance(ASN1Sequence.getInstance(bundle.getObjectAt(0)).getObjectAt(0));
        assertThat(ASN1ObjectIdentifier.getInstance(statement.getObjectAt(0)).getId())
                .isEqualTo(CsrAttestation.FLEETKEY_EAT_JWT).startsWith("2.25.");
        assertThat(DERUTF8String.getInstance(statement.getObjectAt(1)).getString()).isEqualTo("a.b.c");
        assertThat(ASN1Sequence.getInstance(bundle.getObjectAt(1)).getObjectAt(0).toASN1Primitive().getEncoded())
                .isEqualTo(CERT.getEncoded());
    }

    @Test
    void a_bundle_reads_back_and_finds_its_device_statement() throws Exception {
        AttestationBundle original = new AttestationBundle(List.of(
                new AttestationBundle.Statement("1.2.3.4", new DERUTF8String("other").getEncoded()),
                AttestationBundle.Statement.eatJwt("x.y.z")), List.of(CERT));
        AttestationBundle read = AttestationBundle.decode(original.encoded());
        assertThat(read.statements()).hasSize(2);
        assertThat(read.deviceStatement()).contains("x.y.z");
        assertThat(read.certificates()).containsExactly(CERT);
        assertThat(AttestationBundle.decode(new AttestationBundle(List.of(AttestationBundle.Statement.eatJwt("j")),
                List.of()).encoded()).certificates()).isEmpty();
    }

    @Test
    void anything_else_is_refused_with_a_reason() {
        assertThatThrownBy(() -> AttestationBundle.decode(new byte[]{0x30, 0x03, 0x02, 0x01})).isInstanceOf(
                IllegalArgumentException.class).hasMessageContaining("AttestationBundle");
        assertThatThrownBy(() -> AttestationBundle.decode(new byte[]{0x30, 0x00})).isInstanceOf(
                IllegalArgumentException.class);
        assertThatThrownBy(() -> AttestationBundle.decode(new byte[AttestationBundle.MAX_ENCODED_BYTES + 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most");
        assertThatThrownBy(() -> new AttestationBundle(List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    static KeyPair p256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static X509Certificate selfSigned(KeyPair keys) {
        try {
            Instant now = Instant.now();
            return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                    new X500Name("CN=test"), BigInteger.ONE, Date.from(now.minusSeconds(60)),
                    Date.from(now.plusSeconds(3600)), new X500Name("CN=test"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
