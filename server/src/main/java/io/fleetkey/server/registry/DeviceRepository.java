package io.fleetkey.server.registry;

import java.util.List;
import java.util.Optional;

/** Devices. Implementations join the caller's {@link Transactions} transaction when there is one. */
public interface DeviceRepository {
    Optional<Device> find(String deviceId);

    /** Inserts new devices; fails with {@link DuplicateKeyException} if an id exists. */
    void insertAll(List<Device> devices);

    /**
     * Changes a device's status unless it is REVOKED, which is final. Holds the device row's lock
     * until the transaction ends, so a revocation and an issuance for the same device run one
     * after the other, never interleaved.
     *
     * @return false if the device is revoked (so revoking an already revoked device returns false too)
     */
    boolean updateStatus(String deviceId, DeviceStatus status);

    void setPendingKey(String deviceId, String publicKeySha256);

    void setApprovedKey(String deviceId, String publicKeySha256);

    Page<Device> list(DeviceFilter filter, int page, int size);

    /** Every device the filter matches, revoked ones included, ordered by device id. */
    List<RevocationFilter.Candidate> matching(RevocationFilter filter);
}
