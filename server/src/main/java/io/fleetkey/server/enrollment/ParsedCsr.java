package io.fleetkey.server.enrollment;

import java.util.List;

import io.fleetkey.protocol.AttestationBundle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A CSR that parsed and whose signature verified with its own key (proof of possession).
 *
 * @param deviceId        the subject's CN
 * @param publicKeySha256 SHA-256 (hex) of the SubjectPublicKeyInfo, the key's fingerprint in the registry
 * @param dnsNames        DNS SANs requested through the extensionRequest attribute
 * @param challengePassword the PKCS#9 challengePassword, where a device without other credentials
 *                        puts its one-time enrollment token; null when absent
 * @param attestation     the id-aa-attestation attribute's AttestationBundle (draft-ietf-lamps-csr-attestation):
 *                        signed statements and their certificates; null when absent
 */
public record ParsedCsr(PKCS10CertificationRequest request, String deviceId, SubjectPublicKeyInfo publicKey,
                        String publicKeySha256, List<String> dnsNames, String challengePassword,
                        AttestationBundle attestation) {
    @Override
    public String toString() {
        return "ParsedCsr[deviceId=" + deviceId + ", publicKeySha256=" + publicKeySha256 + ", dnsNames=" + dnsNames
                + ", challengePassword=" + (challengePassword == null ? "none" : "<hidden>")
                + ", attestation=" + (attestation == null ? "none" : attestation.statements().size() + " statement(s)") + "]";
    }
}
