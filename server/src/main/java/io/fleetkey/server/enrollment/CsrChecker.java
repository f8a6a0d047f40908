package io.fleetkey.server.enrollment;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.CsrAttestation;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.policy.KeyPolicy;
import io.fleetkey.server.util.Digests;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * First stage of the pipeline, before anything is looked up: the CSR must parse, carry an
 * allowed key, be signed by that key (proof of possession, RFC 2986 §3 / RFC 7030 §3.4), name
 * a device id in its CN, and ask for DNS names only. Thread-safe.
 */
final class CsrChecker {
    private final KeyPolicy keyPolicy;
    private final CryptoProvider provider;

    CsrChecker(KeyPolicy keyPolicy, CryptoProvider provider) {
        this.keyPolicy = keyPolicy;
        this.provider = provider;
    }

    Outcome<ParsedCsr> check(byte[] der) {
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(der);
            csr.getSubjectPublicKeyInfo().getAlgorithm(); // forces the lazy parts to parse
        } catch (Exception e) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST, "the body is not a DER-encoded PKCS#10 CSR");
        }
        KeyPolicy.KeyDescription key;
        try {
            key = keyPolicy.describe(csr.getSubjectPublicKeyInfo());
        } catch (IllegalArgumentException e) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST, "the CSR's public key cannot be read");
        }
        Optional<String> keyType = keyPolicy.checkType(key);
        if (keyType.isPresent()) {
            return Outcome.no(FailureCode.KEY_NOT_ALLOWED, keyType.get());
        }
        if (!signatureValid(csr)) {
            return Outcome.no(FailureCode.BAD_CSR_SIGNATURE,
                    "the CSR's signature does not verify with its own public key (no proof of possession)");
        }
        RDN[] cns = csr.getSubject().getRDNs(BCStyle.CN);
        if (cns.length != 1 || cns[0].isMultiValued()) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST, "the CSR's subject must have exactly one CN, "
                    + "the device id; it has " + cns.length);
        }
        String deviceId = IETFUtils.valueToString(cns[0].getFirst().getValue());
        if (!DeviceIds.isValid(deviceId)) {
            return Outcome.no(FailureCode.SUBJECT_MISMATCH, "the CSR's CN '" + printable(deviceId)
                    + "' is not a device id: " + DeviceIds.rule());
        }
        Outcome<List<String>> dns = requestedDnsNames(csr);
        if (dns instanceof Outcome.No<List<String>> no) {
            return new Outcome.No<>(no.refused());
        }
        Outcome<String> challengePassword = challengePassword(csr);
        if (challengePassword instanceof Outcome.No<String> no) {
            return new Outcome.No<>(no.refused());
        }
        Outcome<AttestationBundle> attestation = attestation(csr);
        if (attestation instanceof Outcome.No<AttestationBundle> no) {
            return new Outcome.No<>(no.refused());
        }
        return Outcome.ok(new ParsedCsr(csr, deviceId, csr.getSubjectPublicKeyInfo(),
                publicKeySha256(csr), ((Outcome.Ok<List<String>>) dns).value(),
                ((Outcome.Ok<String>) challengePassword).value(), ((Outcome.Ok<AttestationBundle>) attestation).value()));
    }

    /** Checks the profile-specific part of the key policy. */
    Optional<String> checkKeyForProfile(ParsedCsr csr, io.fleetkey.server.policy.CertificateProfile profile) {
        return keyPolicy.check(csr.publicKey(), profile);
    }

    static String publicKeySha256(PKCS10CertificationRequest csr) {
        try {
            return Digests.sha256Hex(csr.getSubjectPublicKeyInfo().getEncoded("DER"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot encode a parsed public key", e);
        }
    }

    private boolean signatureValid(PKCS10CertificationRequest csr) {
        try {
            String direct = DIRECT_SIGNATURES.get(csr.getSignatureAlgorithm().getAlgorithm());
            ASN1Encodable parameters = csr.getSignatureAlgorithm().getParameters();
            if (direct != null && (parameters == null || org.bouncycastle.asn1.DERNull.INSTANCE.equals(parameters))) {
                return verifyDirectly(csr, direct);
            }
            JcaContentVerifierProviderBuilder builder = new JcaContentVerifierProviderBuilder();
            if (provider.name() != null) {
                builder.setProvider(provider.name());
            }
            ContentVerifierProvider verifier = builder.build(csr.getSubjectPublicKeyInfo());
            return csr.isSignatureValid(verifier);
        } catch (Exception e) {
            return false; // unknown signature algorithm or unusable key: no proof either way
        }
    }

    /**
     * The common algorithms, verified with one JCA call. Bouncy Castle's ContentVerifier for
     * ECDSA checks the signature a second time as a raw signature, which doubled this cost.
     */
    private static final java.util.Map<org.bouncycastle.asn1.ASN1ObjectIdentifier, String> DIRECT_SIGNATURES = java.util.Map.of(
            org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
            org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
            org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
            PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
            PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
            PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA",
            org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519, "Ed25519");

    private boolean verifyDirectly(PKCS10CertificationRequest csr, String algorithm) throws Exception {
        String keyAlgorithm = algorithm.endsWith("ECDSA") ? "EC" : algorithm.endsWith("RSA") ? "RSA" : "Ed25519";
        java.security.spec.X509EncodedKeySpec spec = new java.security.spec.X509EncodedKeySpec(
                csr.getSubjectPublicKeyInfo().getEncoded("DER"));
        java.security.PublicKey key = provider.name() != null
                ? java.security.KeyFactory.getInstance(keyAlgorithm, provider.name()).generatePublic(spec)
                : java.security.KeyFactory.getInstance(keyAlgorithm).generatePublic(spec);
        java.security.Signature signature = provider.name() != null
                ? java.security.Signature.getInstance(algorithm, provider.name())
                : java.security.Signature.getInstance(algorithm);
        signature.initVerify(key);
        // RFC 2986 §4.2: the signature covers the DER of certificationRequestInfo.
        signature.update(csr.toASN1Structure().getCertificationRequestInfo().getEncoded("DER"));
        return signature.verify(csr.getSignature());
    }

    /** RFC 2985 §5.4.1: a DirectoryString, single-valued; null when the CSR has none. */
    private static Outcome<String> challengePassword(PKCS10CertificationRequest csr) {
        Attribute[] attributes = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        if (attributes.length == 0) {
            return Outcome.ok(null);
        }
        ASN1Encodable[] values = attributes[0].getAttributeValues();
        if (attributes.length > 1 || values.length != 1 || !(values[0] instanceof ASN1String text)) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST,
                    "the CSR's challengePassword must be one string (the device's enrollment token)");
        }
        return Outcome.ok(text.getString());
    }

    /** draft-ietf-lamps-csr-attestation: at most one attribute with exactly one AttestationBundle; null when absent. */
    private static Outcome<AttestationBundle> attestation(PKCS10CertificationRequest csr) {
        Attribute[] attributes = csr.getAttributes(new ASN1ObjectIdentifier(CsrAttestation.ID_AA_ATTESTATION));
        if (attributes.length == 0) {
            return Outcome.ok(null);
        }
        ASN1Encodable[] values = attributes[0].getAttributeValues();
        if (attributes.length > 1 || values.length != 1) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST,
                    "the CSR must carry at most one id-aa-attestation attribute with exactly one AttestationBundle");
        }
        try {
            return Outcome.ok(AttestationBundle.decode(values[0]));
        } catch (IllegalArgumentException e) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST, e.getMessage());
        }
    }

    private static Outcome<List<String>> requestedDnsNames(PKCS10CertificationRequest csr) {
        List<String> names = new ArrayList<>();
        for (Attribute attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            for (ASN1Encodable value : attribute.getAttributeValues()) {
                Extensions extensions;
                try {
                    extensions = Extensions.getInstance(value);
                } catch (IllegalArgumentException e) {
                    return Outcome.no(FailureCode.MALFORMED_REQUEST, "the CSR's extensionRequest is malformed");
                }
                Extension san = extensions.getExtension(Extension.subjectAlternativeName);
                if (san == null) {
                    continue;
                }
                for (GeneralName name : GeneralNames.getInstance(san.getParsedValue()).getNames()) {
                    if (name.getTagNo() != GeneralName.dNSName) {
                        return Outcome.no(FailureCode.POLICY_VIOLATION,
                                "only DNS names may be requested as subject alternative names");
                    }
                    names.add(name.getName().toString());
                }
            }
        }
        return Outcome.ok(List.copyOf(names));
    }

    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }
}
