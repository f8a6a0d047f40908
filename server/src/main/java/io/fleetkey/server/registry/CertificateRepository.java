package io.fleetkey.server.registry;

import java.util.List;
import java.util.Optional;

/** Every certificate the CA signed. A serial is unique by database constraint. */
public interface CertificateRepository {
    /** Fails with {@link DuplicateKeyException} if the serial exists. */
    void insert(IssuedCertificate certificate);

    Optional<IssuedCertificate> find(String serialHex);

    /** A device's certificates, newest first. */
    List<IssuedCertificate> forDevice(String deviceId);
}
