package io.fleetkey.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * Asks the issuing CA's CRL (RFC 5280) whether the device's own certificate is revoked: the
 * CRL distribution point the certificate names, fetched over HTTPS trusting only the pinned
 * anchors, its signature checked with the issuing CA of the device's chain. The agent runs it
 * on start, so a device revoked while it was off learns it before presenting the certificate.
 */
public final class RevocationCheck {
    /** A CRL is a few kilobytes per thousand revocations; a bound keeps a small heap safe. */
    public static final int MAX_CRL_BYTES = 8 * 1024 * 1024;

    private final HttpClient http;

    /** @param http a client whose TLS context trusts only the pinned Fleetkey anchors */
    public RevocationCheck(HttpClient http) {
        this.http = http;
    }

    /** What the CRL says about the certificate. */
    public sealed interface Answer {
        record Good() implements Answer {
        }

        /** @param reason the CRL entry's reason, or null when it gives none */
        record Revoked(java.time.Instant at, String reason) implements Answer {
        }
    }

    /**
     * @param identity the device's identity: its certificate first, then the issuing CA
     * @throws IOException when the CRL cannot be fetched or trusted; the caller decides what that means
     */
    public Answer check(DeviceIdentity identity) throws IOException, InterruptedException {
        List<X509Certificate> chain = identity.chain();
        if (chain.size() < 2) {
            throw new IOException("the identity holds no issuing CA certificate to check the CRL with");
        }
        URI uri = distributionPoint(chain.get(0)).orElseThrow(() ->
                new IOException("the device certificate names no https CRL distribution point"));
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/pkix-crl").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] der;
        try (InputStream body = response.body()) {
            der = body.readNBytes(MAX_CRL_BYTES + 1);
        }
        if (response.statusCode() != 200) {
            throw new IOException("the CRL at " + uri + " answered HTTP " + response.statusCode());
        }
        if (der.length > MAX_CRL_BYTES) {
            throw new IOException("the CRL at " + uri + " is larger than " + MAX_CRL_BYTES + " bytes");
        }
        X509CRL crl;
        try {
            crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
            crl.verify(chain.get(1).getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IOException("the CRL at " + uri + " is not a CRL of the issuing CA: " + e.getMessage(), e);
        }
        X509CRLEntry entry = crl.getRevokedCertificate(chain.get(0));
        if (entry == null) {
            return new Answer.Good();
        }
        return new Answer.Revoked(entry.getRevocationDate().toInstant(),
                entry.getRevocationReason() == null ? null : entry.getRevocationReason().name());
    }

    /** The first https URI of the certificate's CRL distribution points. */
    static Optional<URI> distributionPoint(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.cRLDistributionPoints.getId());
        if (extension == null) {
            return Optional.empty();
        }
        try {
            CRLDistPoint points = CRLDistPoint.getInstance(ASN1Primitive.fromByteArray(
                    ASN1OctetString.getInstance(extension).getOctets()));
            for (DistributionPoint point : points.getDistributionPoints()) {
                DistributionPointName name = point.getDistributionPoint();
                if (name == null || name.getType() != DistributionPointName.FULL_NAME) {
                    continue;
                }
                for (GeneralName general : GeneralNames.getInstance(name.getName()).getNames()) {
                    if (general.getTagNo() == GeneralName.uniformResourceIdentifier) {
                        URI uri = URI.create(general.getName().toString());
                        if ("https".equalsIgnoreCase(uri.getScheme())) {
                            return Optional.of(uri);
                        }
                    }
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
