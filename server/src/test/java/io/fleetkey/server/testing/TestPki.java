package io.fleetkey.server.testing;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Test PKI made in code: key pairs, CSRs, and small CAs standing in for device makers. */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private TestPki() {
    }

    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
            g.initialize(new ECGenParameterSpec(curve), RANDOM);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair p256() {
        return ec("secp256r1");
    }

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", BC);
            g.initialize(bits, RANDOM);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519", BC).generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A DER CSR with subject CN=cn, signed by the pair's own key. */
    public static byte[] csr(String cn, KeyPair keys) {
        return csr("CN=" + cn, keys, List.of());
    }

    /** A DER CSR with the given subject and requested DNS SANs. */
    public static byte[] csr(String subject, KeyPair keys, List<String> dnsNames) {
        try {
            PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject),
                    keys.getPublic());
            if (!dnsNames.isEmpty()) {
                ExtensionsGenerator ext = new ExtensionsGenerator();
                ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                        dnsNames.stream().map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
                b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
            }
            return b.build(signer(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A DER CSR for CN=cn carrying a one-time enrollment token in its PKCS#9 challengePassword. */
    public static byte[] csrWithToken(String cn, KeyPair keys, String token) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_challengePassword,
                            new org.bouncycastle.asn1.DERUTF8String(token))
                    .build(signer(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A DER CSR for CN=cn carrying a device statement (docs/mqtt-protocol.md) in its
     * id-aa-attestation attribute: signed by {@code signer}, whose certificate chain (signer first)
     * goes into the AttestationBundle. {@code statementDeviceId} and {@code boundKey} are what the
     * statement claims (normally cn and the CSR's own key).
     */
    public static byte[] csrWithStatement(String cn, KeyPair keys, KeyPair signer, List<X509Certificate> signerChain,
                                          String statementDeviceId, java.security.PublicKey boundKey, Instant issuedAt) {
        return csrWithStatement(cn, keys, signer, signerChain, statementDeviceId, boundKey, issuedAt, null);
    }

    /** As above, with a freshness nonce in the statement's eat_nonce. */
    public static byte[] csrWithStatement(String cn, KeyPair keys, KeyPair signer, List<X509Certificate> signerChain,
                                          String statementDeviceId, java.security.PublicKey boundKey, Instant issuedAt,
                                          String nonce) {
        return csrWithClaims(cn, keys, signer, signerChain, new io.fleetkey.protocol.DeviceStatement.Claims(
                statementDeviceId, io.fleetkey.protocol.DeviceStatement.keyBinding(boundKey), issuedAt, nonce));
    }

    /**
     * A DER CSR for CN=cn with a device statement carrying evidence: bound to the CSR's key, made
     * now, with the nonce (or none when null), signed by {@code signer} whose chain goes in the bundle.
     */
    public static byte[] csrWithEvidence(String cn, KeyPair keys, KeyPair signer, List<X509Certificate> signerChain,
                                         String nonce, io.fleetkey.protocol.Evidence evidence) {
        return csrWithClaims(cn, keys, signer, signerChain, new io.fleetkey.protocol.DeviceStatement.Claims(cn,
                io.fleetkey.protocol.DeviceStatement.keyBinding(keys.getPublic()), Instant.now(), nonce, evidence));
    }

    /** A DER CSR for CN=cn whose device statement says exactly {@code claims}, signed by {@code signer}. */
    public static byte[] csrWithClaims(String cn, KeyPair keys, KeyPair signer, List<X509Certificate> signerChain,
                                       io.fleetkey.protocol.DeviceStatement.Claims claims) {
        String jwt = io.fleetkey.protocol.DeviceStatement.sign(claims, signer.getPrivate());
        return csrWithBundle(cn, keys, new io.fleetkey.protocol.AttestationBundle(
                List.of(io.fleetkey.protocol.AttestationBundle.Statement.eatJwt(jwt)), signerChain));
    }

    /** The usual device statement: for cn, bound to the CSR's key, made now. */
    public static byte[] csrWithStatement(String cn, KeyPair keys, KeyPair signer, List<X509Certificate> signerChain) {
        return csrWithStatement(cn, keys, signer, signerChain, cn, keys.getPublic(), Instant.now());
    }

    /** A DER CSR carrying this AttestationBundle in its id-aa-attestation attribute. */
    public static byte[] csrWithBundle(String cn, KeyPair keys, io.fleetkey.protocol.AttestationBundle bundle) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
                    .addAttribute(new org.bouncycastle.asn1.ASN1ObjectIdentifier(
                                    io.fleetkey.protocol.CsrAttestation.ID_AA_ATTESTATION),
                            org.bouncycastle.asn1.ASN1Primitive.fromByteArray(bundle.encoded()))
                    .build(signer(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR whose signature was made by a different key than the one it carries. */
    public static byte[] csrWithForeignSignature(String cn) {
        KeyPair carried = p256();
        KeyPair signing = p256();
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), carried.getPublic())
                    .build(signer(signing.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A self-signed CA, e.g. a device maker's IDevID root. */
    public record Ca(KeyPair keys, X509Certificate certificate) {
        /** Issues an end-entity certificate (an IDevID) under this CA. */
        public X509Certificate issue(String subject, KeyPair subjectKeys, Duration validity) {
            return TestPki.certificate(subject, subjectKeys, this, false, validity);
        }

        /** Issues a TLS server certificate for this DNS name (SAN, serverAuth) under this CA. */
        public X509Certificate issueServer(String subject, KeyPair subjectKeys, Duration validity, String dnsName) {
            try {
                Instant now = Instant.now();
                JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                        X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                        new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(now.minusSeconds(60)),
                        Date.from(now.plus(validity)), new X500Name(subject), subjectKeys.getPublic());
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                b.addExtension(Extension.extendedKeyUsage, false, new org.bouncycastle.asn1.x509.ExtendedKeyUsage(
                        org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_serverAuth));
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
                return new JcaX509CertificateConverter().getCertificate(b.build(signer(keys.getPrivate())));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** A PEM CRL of this CA listing these certificates as revoked (keyCompromise), valid for a day. */
        public String crlPem(X509Certificate... revoked) {
            try {
                Date now = new Date();
                var builder = new org.bouncycastle.cert.X509v2CRLBuilder(
                        X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), now);
                builder.setNextUpdate(new Date(now.getTime() + 86_400_000L));
                for (X509Certificate c : revoked) {
                    builder.addCRLEntry(c.getSerialNumber(), now, org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
                }
                builder.addExtension(Extension.cRLNumber, false, new org.bouncycastle.asn1.x509.CRLNumber(BigInteger.ONE));
                var crl = new org.bouncycastle.cert.jcajce.JcaX509CRLConverter().getCRL(builder.build(signer(keys.getPrivate())));
                return "-----BEGIN X509 CRL-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes())
                        .encodeToString(crl.getEncoded()) + "\n-----END X509 CRL-----\n";
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static Ca ca(String name) {
        KeyPair keys = p256();
        return new Ca(keys, certificate("CN=" + name, keys, null, true, Duration.ofDays(3650)));
    }

    private static X509Certificate certificate(String subject, KeyPair subjectKeys, Ca issuer, boolean isCa,
                                               Duration validity) {
        try {
            Instant now = Instant.now();
            X500Name issuerName = issuer == null ? new X500Name(subject)
                    : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(validity)), new X500Name(subject), subjectKeys.getPublic());
            if (isCa) {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(1));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            }
            PrivateKey signingKey = issuer == null ? subjectKeys.getPrivate() : issuer.keys().getPrivate();
            return new JcaX509CertificateConverter().getCertificate(b.build(signer(signingKey)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ContentSigner signer(PrivateKey key) throws Exception {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> "SHA256withECDSA";
        };
        return new JcaContentSignerBuilder(alg).setProvider(BC).build(key);
    }
}
