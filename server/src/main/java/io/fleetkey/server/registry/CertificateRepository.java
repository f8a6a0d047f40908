package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Every certificate the CA signed. A serial is unique by database constraint. */
public interface CertificateRepository {
    /** Fails with {@link DuplicateKeyException} if the serial exists. */
    void insert(IssuedCertificate certificate);

    Optional<IssuedCertificate> find(String serialHex);

    /** Only what a status answer needs of a certificate: one narrow read, no DER, for OCSP. */
    Optional<Revocation> revocation(String serialHex);

    /** A device's certificates, newest first. */
    List<IssuedCertificate> forDevice(String deviceId);

    /**
     * Revokes every GOOD certificate of a device with the reason and time given.
     *
     * @return the serials it revoked
     */
    List<String> revokeAllOf(String deviceId, RevocationReason reason, Instant revokedAt);

    /** Revoked certificates that expire after {@code instant}: the entries of a CRL. */
    List<RevokedCertificate> revokedExpiringAfter(Instant instant);

    /**
     * A certificate's revocation status.
     *
     * @param revokedAt null unless revoked
     * @param reason    null unless revoked, and may be null then too
     */
    record Revocation(CertificateStatus status, Instant revokedAt, RevocationReason reason) {
    }

    /** What a CRL entry needs of a revoked certificate. */
    record RevokedCertificate(String serialHex, Instant revokedAt, RevocationReason reason) {
    }
}
