package io.fleetkey.server.registry;

import java.time.Instant;

/**
 * A device of the fleet.
 *
 * @param pendingKeySha256  SHA-256 (hex) of the public key of the CSR waiting for approval, or null
 * @param approvedKeySha256 SHA-256 (hex) of the public key a fleet manager approved, or null
 * @param attestation       the result of the device's latest verified evidence, or null
 * @param attestedAt        when that evidence was appraised, or null
 */
public record Device(String deviceId, String group, DeviceStatus status,
                     String pendingKeySha256, String approvedKeySha256,
                     Instant createdAt, Instant updatedAt, AttestationResult attestation, Instant attestedAt) {
    /** A device that has shown no evidence yet. */
    public Device(String deviceId, String group, DeviceStatus status, String pendingKeySha256,
                  String approvedKeySha256, Instant createdAt, Instant updatedAt) {
        this(deviceId, group, status, pendingKeySha256, approvedKeySha256, createdAt, updatedAt, null, null);
    }
}
