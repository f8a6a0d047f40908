package io.fleetkey.server.registry;

import java.util.List;
import java.util.Optional;

/** Devices. Implementations join the caller's {@link Transactions} transaction when there is one. */
public interface DeviceRepository {
    Optional<Device> find(String deviceId);

    /** Inserts new devices; fails with {@link DuplicateKeyException} if an id exists. */
    void insertAll(List<Device> devices);

    void updateStatus(String deviceId, DeviceStatus status);

    void setPendingKey(String deviceId, String publicKeySha256);

    void setApprovedKey(String deviceId, String publicKeySha256);

    Page<Device> list(DeviceFilter filter, int page, int size);
}
