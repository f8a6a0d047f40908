package io.fleetkey.server.registry;

import java.time.Instant;

/**
 * A certificate the CA signed, as the registry keeps it.
 *
 * @param serialHex       serial number, lower-case hex without leading zeros
 * @param deviceId        owning device, or null for the server's own TLS certificates
 * @param publicKeySha256 SHA-256 (hex) of the certificate's SubjectPublicKeyInfo
 * @param revokedAt       when it was revoked, or null while it is good
 * @param revocationReason why it was revoked, or null while it is good
 */
public record IssuedCertificate(String serialHex, String deviceId, String subject, String profile,
                                String publicKeySha256, Instant notBefore, Instant notAfter,
                                Instant issuedAt, CertificateStatus status, Instant revokedAt,
                                RevocationReason revocationReason, byte[] der) {
}
