package io.fleetkey.agent;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/** A two-level test PKI made in code: a root, an issuing CA, and leaves it signs. */
final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    final KeyPair rootKeys = newKeyPair();
    final X509Certificate root;
    final KeyPair issuingKeys = newKeyPair();
    final X509Certificate issuing;

    TestPki(String name) {
        try {
            X500Name rootName = new X500Name("CN=" + name + " Root");
            root = sign(new JcaX509v3CertificateBuilder(rootName, serial(), Date.from(Instant.now().minusSeconds(60)),
                    Date.from(Instant.now().plus(Duration.ofDays(365))), rootName, rootKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)),
                    rootKeys);
            issuing = sign(new JcaX509v3CertificateBuilder(rootName, serial(), Date.from(Instant.now().minusSeconds(60)),
                    Date.from(Instant.now().plus(Duration.ofDays(365))), new X500Name("CN=" + name + " Issuing"),
                    issuingKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)),
                    rootKeys);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Issuing CA first, root last, as Fleetkey's cacerts and chain.pem list them. */
    List<X509Certificate> caCertificates() {
        return List.of(issuing, root);
    }

    X509Certificate issueServer(PublicKey key, String dnsName, String ip) {
        try {
            return sign(leafBuilder(key, dnsName)
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                            new GeneralName(GeneralName.dNSName, dnsName), new GeneralName(GeneralName.iPAddress, ip)}))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth)),
                    issuingKeys);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    X509Certificate issueClient(PublicKey key, String cn) {
        try {
            return sign(leafBuilder(key, cn)
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth)),
                    issuingKeys);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs a CSR after checking its proof of possession, with the CSR's CN. */
    X509Certificate issueFor(byte[] csrDer) {
        try {
            JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csrDer))
                    .setProvider(BC);
            if (!csr.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                    .setProvider(BC).build(csr.getSubjectPublicKeyInfo()))) {
                throw new IllegalArgumentException("bad CSR signature");
            }
            String cn = org.bouncycastle.asn1.x500.style.IETFUtils.valueToString(
                    csr.getSubject().getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN)[0].getFirst().getValue());
            return issueClient(csr.getPublicKey(), cn);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private X509v3CertificateBuilder leafBuilder(PublicKey key, String cn) throws Exception {
        return new JcaX509v3CertificateBuilder(issuing, serial(), Date.from(Instant.now().minusSeconds(60)),
                Date.from(Instant.now().plus(Duration.ofDays(90))), new X500Name("CN=" + cn), key)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    }

    static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
