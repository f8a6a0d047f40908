package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.Optional;

/** One-time enrollment tokens, stored as hashes. At most one per device. */
public interface TokenRepository {
    Optional<EnrollmentToken> find(String deviceId);

    /** Sets the device's token, replacing an earlier one. */
    void put(EnrollmentToken token);

    /**
     * Spends the token if it is still unused: an atomic compare-and-set, so two requests with
     * the same token cannot both win.
     *
     * @return true if this call spent it
     */
    boolean spend(String deviceId, String tokenSha256, Instant usedAt, String serialHex);
}
