package io.fleetkey.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

import io.fleetkey.server.registry.CertificateRepository.RevokedCertificate;
import io.fleetkey.server.registry.RevocationReason;
import io.fleetkey.server.testing.TestPki;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.Test;

/**
 * The CRL the CA signs, read back by the JDK's own X.509 parser: version 2, issuer, times,
 * signature by the issuing CA key, AKI and CRL number, and one entry per revoked certificate with
 * its reasonCode (absent for unspecified, RFC 5280 §5.3.1).
 */
class CrlBuilderTest {
    private static final TestPki.Ca ISSUING = TestPki.ca("Test Issuing CA");
    private static final CertificateAuthority AUTHORITY = new CertificateAuthority(
            new SoftwareCaSigner(ISSUING.keys().getPrivate(), List.of(ISSUING.certificate()), CryptoProvider.BC),
            "https://fleetkey.example");
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @Test
    void a_crl_lists_each_revoked_certificate_with_its_date_and_reason() throws Exception {
        String keyCompromised = CertificateAuthority.newSerialNumber().toString(16);
        String superseded = "f00d";
        String unspecified = "1";

        X509CRL crl = parsed(AUTHORITY.signCrl(7, NOW, NOW.plus(1, ChronoUnit.DAYS), List.of(
                new RevokedCertificate(keyCompromised, NOW.minusSeconds(30), RevocationReason.KEY_COMPROMISE),
                new RevokedCertificate(superseded, NOW.minusSeconds(20), RevocationReason.SUPERSEDED),
                new RevokedCertificate(unspecified, NOW.minusSeconds(10), RevocationReason.UNSPECIFIED))));

        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.getIssuerX500Principal()).isEqualTo(ISSUING.certificate().getSubjectX500Principal());
        assertThat(crl.getThisUpdate()).isEqualTo(Date.from(NOW));
        assertThat(crl.getNextUpdate()).isEqualTo(Date.from(NOW.plus(1, ChronoUnit.DAYS)));
        crl.verify(ISSUING.certificate().getPublicKey());
        assertThat(crl.getRevokedCertificates()).hasSize(3);

        X509CRLEntry first = crl.getRevokedCertificate(new BigInteger(keyCompromised, 16));
        assertThat(first.getRevocationDate()).isEqualTo(Date.from(NOW.minusSeconds(30)));
        assertThat(first.getRevocationReason()).isEqualTo(CRLReason.KEY_COMPROMISE);
        assertThat(crl.getRevokedCertificate(new BigInteger(superseded, 16)).getRevocationReason())
                .isEqualTo(CRLReason.SUPERSEDED);
        X509CRLEntry plain = crl.getRevokedCertificate(BigInteger.ONE);
        assertThat(plain.getRevocationReason()).isNull();
        assertThat(plain.hasExtensions()).isFalse();
    }

    @Test
    void a_crl_carries_its_number_and_the_issuing_ca_key_id_as_non_critical_extensions() throws Exception {
        X509CRL crl = parsed(AUTHORITY.signCrl(4_000_000_000L, NOW, NOW.plusSeconds(3600), List.of()));

        assertThat(crl.getRevokedCertificates()).isNull();
        assertThat(crl.getCriticalExtensionOIDs()).isNullOrEmpty();
        assertThat(ASN1Integer.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                crl.getExtensionValue(Extension.cRLNumber.getId()))).getValue()).isEqualTo(4_000_000_000L);
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                crl.getExtensionValue(Extension.authorityKeyIdentifier.getId())));
        assertThat(aki.getKeyIdentifier()).isEqualTo(new JcaX509ExtensionUtils()
                .createSubjectKeyIdentifier(ISSUING.certificate().getPublicKey()).getKeyIdentifier());
        crl.verify(ISSUING.certificate().getPublicKey());
    }

    /** What a relying party sees: the DER through the JDK's parser, not the object that was built. */
    private static X509CRL parsed(X509CRL built) throws Exception {
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(built.getEncoded()));
    }
}
