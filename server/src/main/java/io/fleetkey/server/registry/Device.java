package io.fleetkey.server.registry;

import java.time.Instant;

/**
 * A device of the fleet.
 *
 * @param pendingKeySha256  SHA-256 (hex) of the public key of the CSR waiting for approval, or null
 * @param approvedKeySha256 SHA-256 (hex) of the public key a fleet manager approved, or null
 */
public record Device(String deviceId, String group, DeviceStatus status,
                     String pendingKeySha256, String approvedKeySha256,
                     Instant createdAt, Instant updatedAt) {
}
