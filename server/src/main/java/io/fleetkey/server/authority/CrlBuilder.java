package io.fleetkey.server.authority;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import io.fleetkey.server.registry.CertificateRepository.RevokedCertificate;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.ContentSigner;

/**
 * Builds an X.509 v2 CRL (RFC 5280 §5) with Bouncy Castle's builder. Pure: the signature is
 * made by the {@link ContentSigner} it is handed, which only {@link CertificateAuthority} holds.
 */
final class CrlBuilder {
    private CrlBuilder() {
    }

    /** What one CRL says besides its entries. */
    record Header(X500Name issuer, AuthorityKeyIdentifier authorityKeyId, long number, Instant thisUpdate,
                  Instant nextUpdate) {
    }

    static X509CRLHolder build(Header header, List<RevokedCertificate> entries, ContentSigner signer) {
        X509v2CRLBuilder builder = new X509v2CRLBuilder(header.issuer(), Date.from(header.thisUpdate()));
        builder.setNextUpdate(Date.from(header.nextUpdate()));
        for (RevokedCertificate entry : entries) {
            // Bouncy Castle leaves the reasonCode extension out for unspecified (0), as RFC 5280 §5.3.1 asks.
            builder.addCRLEntry(new BigInteger(entry.serialHex(), 16), Date.from(entry.revokedAt()),
                    entry.reason().code());
        }
        try {
            // RFC 5280 §5.2.1 and §5.2.3: conforming CRL issuers include both, non-critical.
            builder.addExtension(Extension.authorityKeyIdentifier, false, header.authorityKeyId());
            builder.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(header.number())));
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot encode the CRL extensions", e);
        }
        return builder.build(signer);
    }
}
