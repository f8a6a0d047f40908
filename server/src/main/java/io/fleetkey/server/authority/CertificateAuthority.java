package io.fleetkey.server.authority;

import java.io.IOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

import io.fleetkey.server.registry.CertificateRepository.RevokedCertificate;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.X509ObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The only class that signs certificates: device and server leaves, the delegated OCSP signer and
 * the CRL with the issuing CA's {@link CaSigner}, and — once, at set-up — the root and issuing CA
 * certificates themselves.
 * Thread-safe.
 */
public final class CertificateAuthority {
    /** Where the server answers with the CRL, below the public base URL. */
    public static final String CRL_PATH = "/crl";
    /** Where the OCSP responder answers, below the public base URL. */
    public static final String OCSP_PATH = "/ocsp";
    /** Backdating of notBefore, so devices with a slightly slow clock accept a fresh certificate. */
    static final Duration CLOCK_SKEW = Duration.ofMinutes(1);

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final JcaX509CertificateConverter CONVERTER = new JcaX509CertificateConverter();

    private final CaSigner signer;
    private final String publicBaseUrl;
    private final X509CertificateHolder issuerHolder;
    private final AuthorityKeyIdentifier issuerKeyIdentifier;

    public CertificateAuthority(CaSigner signer, String publicBaseUrl) {
        this.signer = signer;
        this.publicBaseUrl = publicBaseUrl;
        try {
            this.issuerHolder = new X509CertificateHolder(signer.certificate().getEncoded());
        } catch (IOException | java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("issuing CA certificate cannot be encoded", e);
        }
        this.issuerKeyIdentifier = keyIdentifierOf(issuerHolder);
    }

    /** RFC 5280 §4.2.1.1: the AKI of our leaves is the keyIdentifier of the issuer's SKI, nothing more. */
    private static AuthorityKeyIdentifier keyIdentifierOf(X509CertificateHolder issuer) {
        SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(issuer.getExtensions());
        if (ski != null) {
            return new AuthorityKeyIdentifier(ski.getKeyIdentifier());
        }
        try {
            return new AuthorityKeyIdentifier(new JcaX509ExtensionUtils()
                    .createSubjectKeyIdentifier(issuer.getSubjectPublicKeyInfo()).getKeyIdentifier());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from the JDK", e);
        }
    }

    /** Issuing CA first, root last. */
    public List<X509Certificate> chain() {
        return signer.chain();
    }

    /**
     * What a leaf certificate should say.
     *
     * @param extendedKeyUsages {@code clientAuth} and/or {@code serverAuth}
     * @param dnsNames          DNS SANs (already allowed by policy)
     * @param ipAddresses       IP SANs (only for the server's own certificate)
     */
    public record LeafRequest(X500Name subject, SubjectPublicKeyInfo publicKey, Duration validity,
                              Set<String> extendedKeyUsages, List<String> dnsNames, List<String> ipAddresses) {
    }

    /** ≥ 64 random bits as RFC 5280 §4.1.2.2 and CA/B BR §7.1 ask: 127 here, always positive. */
    public static BigInteger newSerialNumber() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        bytes[0] &= 0x7f;
        BigInteger serial = new BigInteger(1, bytes);
        return serial.signum() == 0 ? BigInteger.ONE : serial;
    }

    /** Signs a leaf certificate (RFC 5280 profile): AKI/SKI, KU, EKU, CRL DP, OCSP AIA. */
    public X509Certificate issue(LeafRequest request, BigInteger serial, Instant now) {
        Instant notBefore = now.minus(CLOCK_SKEW);
        Instant notAfter = now.plus(request.validity());
        Instant caNotAfter = signer.certificate().getNotAfter().toInstant();
        if (notAfter.isAfter(caNotAfter)) {
            notAfter = caNotAfter; // a leaf never outlives its issuer
        }
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuerHolder.getSubject(), serial,
                    Date.from(notBefore), Date.from(notAfter), request.subject(), request.publicKey());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsageFor(request.publicKey())));
            builder.addExtension(Extension.extendedKeyUsage, false, extendedKeyUsage(request.extendedKeyUsages()));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    utils.createSubjectKeyIdentifier(request.publicKey()));
            builder.addExtension(Extension.authorityKeyIdentifier, false, issuerKeyIdentifier);
            List<GeneralName> sans = new ArrayList<>();
            request.dnsNames().forEach(n -> sans.add(new GeneralName(GeneralName.dNSName, n)));
            request.ipAddresses().forEach(n -> sans.add(new GeneralName(GeneralName.iPAddress, n)));
            if (!sans.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            builder.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[]{
                new DistributionPoint(new DistributionPointName(new GeneralNames(
                        new GeneralName(GeneralName.uniformResourceIdentifier, crlUrl()))), null, null)}));
            builder.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(
                    new AccessDescription(X509ObjectIdentifiers.id_ad_ocsp,
                            new GeneralName(GeneralName.uniformResourceIdentifier, ocspUrl()))));
            return toCertificate(builder.build(signer.newContentSigner()));
        } catch (IOException | java.security.NoSuchAlgorithmException | CertificateException e) {
            throw new IllegalStateException("cannot build certificate for " + request.subject(), e);
        }
    }

    /**
     * Signs a delegated OCSP signing certificate (RFC 6960 §4.2.2.2): an end entity of the issuing
     * CA whose only purpose is id-kp-OCSPSigning, with id-pkix-ocsp-nocheck (§4.2.2.2.1) so relying
     * parties do not ask about the responder's own status. No CRL DP or OCSP AIA: with nocheck there
     * is nothing to look up, and short validity stands in for revocation.
     */
    public X509Certificate issueOcspSigner(X500Name subject, SubjectPublicKeyInfo publicKey, Duration validity,
                                           BigInteger serial, Instant now) {
        Instant notAfter = now.plus(validity);
        Instant caNotAfter = signer.certificate().getNotAfter().toInstant();
        if (notAfter.isAfter(caNotAfter)) {
            notAfter = caNotAfter;
        }
        try {
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuerHolder.getSubject(), serial,
                    Date.from(now.minus(CLOCK_SKEW)), Date.from(notAfter), subject, publicKey);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_OCSPSigning));
            builder.addExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false, DERNull.INSTANCE);
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createSubjectKeyIdentifier(publicKey));
            builder.addExtension(Extension.authorityKeyIdentifier, false, issuerKeyIdentifier);
            return toCertificate(builder.build(signer.newContentSigner()));
        } catch (IOException | java.security.NoSuchAlgorithmException | CertificateException e) {
            throw new IllegalStateException("cannot build the OCSP signing certificate " + subject, e);
        }
    }

    /**
     * Signs the issuing CA's CRL (RFC 5280 §5): an entry for each revoked certificate given, AKI,
     * CRL number, thisUpdate and nextUpdate.
     */
    public X509CRL signCrl(long number, Instant thisUpdate, Instant nextUpdate, List<RevokedCertificate> entries) {
        CrlBuilder.Header header = new CrlBuilder.Header(issuerHolder.getSubject(), issuerKeyIdentifier, number,
                thisUpdate, nextUpdate);
        try {
            return new JcaX509CRLConverter().getCRL(CrlBuilder.build(header, entries, signer.newContentSigner()));
        } catch (CRLException e) {
            throw new IllegalStateException("cannot build CRL number " + number, e);
        }
    }

    /** Where the CRL is published (RFC 5280 §4.2.1.13). */
    public String crlUrl() {
        return publicBaseUrl + CRL_PATH;
    }

    /** Where the OCSP responder answers (RFC 5280 §4.2.2.1). */
    public String ocspUrl() {
        return publicBaseUrl + OCSP_PATH;
    }

    /** Self-signs a root CA certificate. */
    public static X509Certificate createRoot(KeyPair keys, X500Name name, Duration validity, int pathLen,
                                             Instant now, CryptoProvider provider) {
        return createCa(name, keys.getPublic(), name, null, keys.getPrivate(), validity, pathLen, now, provider);
    }

    /** Signs a subordinate CA certificate with the root's key. */
    public static X509Certificate createSubordinate(PublicKey subordinateKey, X500Name subordinateName,
                                                    X509Certificate root, PrivateKey rootKey, Duration validity,
                                                    int pathLen, Instant now, CryptoProvider provider) {
        return createCa(subordinateName, subordinateKey, X500Name.getInstance(
                root.getSubjectX500Principal().getEncoded()), root, rootKey, validity, pathLen, now, provider);
    }

    private static X509Certificate createCa(X500Name subject, PublicKey subjectKey, X500Name issuer,
                                            X509Certificate issuerCert, PrivateKey signingKey,
                                            Duration validity, int pathLen, Instant now, CryptoProvider provider) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(subjectKey.getEncoded());
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, newSerialNumber(),
                    Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(validity)), subject, spki);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLen));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(spki));
            if (issuerCert != null) {
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(issuerCert.getPublicKey()));
            } else {
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(spki));
            }
            JcaContentSignerBuilder signerBuilder = new JcaContentSignerBuilder(
                    SignatureAlgorithms.forKey(issuerCert != null ? issuerCert.getPublicKey() : subjectKey));
            if (provider.name() != null) {
                signerBuilder.setProvider(provider.name());
            }
            ContentSigner contentSigner = signerBuilder.build(signingKey);
            return toCertificate(builder.build(contentSigner));
        } catch (IOException | java.security.NoSuchAlgorithmException | CertificateException
                 | OperatorCreationException e) {
            throw new IllegalStateException("cannot create CA certificate " + subject, e);
        }
    }

    private static int keyUsageFor(SubjectPublicKeyInfo key) {
        // RSA keys may be used for TLS 1.2 RSA key exchange; EC and EdDSA keys only sign.
        if (PKCSObjectIdentifiers.rsaEncryption.equals(key.getAlgorithm().getAlgorithm())) {
            return KeyUsage.digitalSignature | KeyUsage.keyEncipherment;
        }
        return KeyUsage.digitalSignature;
    }

    private static ExtendedKeyUsage extendedKeyUsage(Set<String> usages) {
        List<KeyPurposeId> ids = new ArrayList<>();
        if (usages.contains("clientAuth")) {
            ids.add(KeyPurposeId.id_kp_clientAuth);
        }
        if (usages.contains("serverAuth")) {
            ids.add(KeyPurposeId.id_kp_serverAuth);
        }
        return new ExtendedKeyUsage(ids.toArray(KeyPurposeId[]::new));
    }

    private static X509Certificate toCertificate(X509CertificateHolder holder) throws CertificateException {
        return CONVERTER.getCertificate(holder);
    }
}
