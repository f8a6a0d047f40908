package io.fleetkey.server.registry;

import java.time.Instant;

/**
 * A device's one-time enrollment token as stored: only its hash.
 *
 * @param usedAt     when it was spent, or null
 * @param usedSerial serial of the certificate it was spent on, or null
 */
public record EnrollmentToken(String deviceId, String tokenSha256, Instant expiresAt,
                              Instant usedAt, String usedSerial) {
}
