package io.fleetkey.simulator.factory;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A device maker's CA: it signs factory identities (IEEE 802.1AR IDevIDs) and the CRL that
 * revokes them. Certificates follow RFC 5280; the CA is self-signed with basicConstraints
 * cA and pathLenConstraint 0 (it signs devices only). Thread-safe: every signature gets its
 * own signer.
 */
final class MakerCa {
    /** Longest maker name: the CA's CN adds {@value #CA_CN_SUFFIX} and must stay within 64 characters (RFC 5280 ub-common-name). */
    static final int MAX_MAKER_LENGTH = 50;
    static final String CA_CN_SUFFIX = " IDevID CA";
    static final int MAX_MODEL_LENGTH = 64;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey privateKey;
    private final KeyType keyType;
    private final String maker;
    private final byte[] keyIdentifier;

    MakerCa(X509Certificate certificate, PrivateKey privateKey) {
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.keyType = keyTypeOf(certificate.getPublicKey());
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] organization = subject.getRDNs(BCStyle.O);
        this.maker = organization.length == 0 ? "" : IETFUtils.valueToString(organization[0].getFirst().getValue());
        try {
            SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(
                    new X509CertificateHolder(certificate.getEncoded()).getExtensions());
            this.keyIdentifier = ski != null ? ski.getKeyIdentifier()
                    : new JcaX509ExtensionUtils().createSubjectKeyIdentifier(certificate.getPublicKey()).getKeyIdentifier();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("the maker CA certificate cannot be read", e);
        }
    }

    /**
     * A new self-signed maker CA: subject {@code CN=<maker> IDevID CA, O=<maker>},
     * basicConstraints cA pathLen 0 and keyUsage keyCertSign + cRLSign (both critical), SKI.
     */
    static MakerCa create(String maker, KeyType keyType, Validity validity, Instant now) {
        if (keyType == KeyType.ED25519) {
            throw new IllegalArgumentException("a maker CA key is p256, p384 or rsa2048");
        }
        KeyPair keys = keyType.generate();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, maker)
                .addRDN(BCStyle.CN, maker + CA_CN_SUFFIX)
                .build();
        Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS);
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, randomSerial(),
                    Date.from(notBefore), Date.from(validity.notAfter(notBefore)), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(signer(keyType, keys.getPrivate())));
            return new MakerCa(certificate, keys.getPrivate());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make the maker CA certificate", e);
        }
    }

    X509Certificate certificate() {
        return certificate;
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    /** The maker's name: the O of the CA's subject. */
    String maker() {
        return maker;
    }

    /**
     * An IDevID certificate for the device's public key. Subject {@code O=<maker>[, OU=<model>],
     * CN=<device id>, serialNumber=<device id>}; keyUsage digitalSignature (critical), EKU
     * clientAuth, SKI, AKI (key identifier), a random positive 127-bit serial. The notAfter is
     * capped at the CA's own notAfter: a path is only valid while every certificate in it is.
     *
     * @param model the device model for the subject's OU, or null for none
     */
    X509Certificate issue(String deviceId, PublicKey devicePublicKey, Validity validity, String model, Instant now) {
        X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, maker);
        if (model != null) {
            subject.addRDN(BCStyle.OU, model);
        }
        subject.addRDN(BCStyle.CN, deviceId);
        // X.520 makes serialNumber a PrintableString, which has no '_'; such ids are written as
        // UTF8String, which every X.509 parser reads, rather than as an invalid PrintableString.
        ASN1Encodable serialNumber = DERPrintableString.isPrintableString(deviceId)
                ? new DERPrintableString(deviceId) : new DERUTF8String(deviceId);
        subject.addRDN(BCStyle.SERIALNUMBER, serialNumber);
        Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS);
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, randomSerial(),
                    Date.from(notBefore), Date.from(notAfter(validity, notBefore)), subject.build(), devicePublicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            new JcaX509ExtensionUtils().createSubjectKeyIdentifier(devicePublicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyIdentifier));
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer(keyType, privateKey)));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot issue the IDevID of device '" + deviceId + "'", e);
        }
    }

    /** The notAfter an IDevID of this validity gets from this CA at {@code notBefore}. */
    Instant notAfter(Validity validity, Instant notBefore) {
        Instant wanted = validity.notAfter(notBefore);
        Instant caEnd = certificate.getNotAfter().toInstant();
        return wanted.isAfter(caEnd) ? caEnd : wanted;
    }

    /**
     * An X.509 v2 CRL (RFC 5280 §5) of the entries, with cRLNumber and AKI, signed by this CA.
     *
     * @param number must be higher than the number of every CRL published before (RFC 5280 §5.2.3)
     */
    X509CRL crl(List<RevokedEntry> entries, BigInteger number, Instant thisUpdate, Instant nextUpdate) {
        try {
            X509v2CRLBuilder builder = new X509v2CRLBuilder(
                    X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                    Date.from(thisUpdate.truncatedTo(ChronoUnit.SECONDS)));
            builder.setNextUpdate(Date.from(nextUpdate.truncatedTo(ChronoUnit.SECONDS)));
            for (RevokedEntry entry : entries) {
                builder.addCRLEntry(entry.serial(), Date.from(entry.revokedAt()), entry.reason().code());
            }
            builder.addExtension(Extension.cRLNumber, false, new CRLNumber(number));
            builder.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyIdentifier));
            return new JcaX509CRLConverter().getCRL(builder.build(signer(keyType, privateKey)));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot sign the maker CRL", e);
        }
    }

    /** RFC 5280 §4.1.2.2: positive, at most 20 octets; 127 random bits make collisions out of reach. */
    static BigInteger randomSerial() {
        byte[] bytes = new byte[16];
        BigInteger serial;
        do {
            RANDOM.nextBytes(bytes);
            bytes[0] &= 0x7f;
            serial = new BigInteger(1, bytes);
        } while (serial.bitLength() < 64);
        return serial;
    }

    private static ContentSigner signer(KeyType keyType, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaContentSignerBuilder(keyType.signatureAlgorithm()).build(key);
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("no signer for " + keyType.signatureAlgorithm(), e);
        }
    }

    private static KeyType keyTypeOf(PublicKey key) {
        if (key instanceof java.security.interfaces.RSAPublicKey) {
            return KeyType.RSA2048;
        }
        if (key instanceof java.security.interfaces.ECPublicKey ec) {
            return ec.getParams().getCurve().getField().getFieldSize() > 256 ? KeyType.P384 : KeyType.P256;
        }
        throw new IllegalArgumentException("the maker CA key is neither EC nor RSA");
    }
}
