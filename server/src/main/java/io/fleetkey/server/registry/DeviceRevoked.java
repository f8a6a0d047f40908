package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

/**
 * A device was revoked, and the revocation is committed. {@link FleetService} hands it to its
 * listener after the commit, on the revoking thread; the server publishes it as an application
 * event. A listener's failure is logged and does not undo the revocation; listeners with slow
 * work should hand it off. The CRL is published again by a listener that runs before the others,
 * so they find the new CRL already out.
 *
 * @param note           the fleet manager's free-text note, or null
 * @param revokedSerials serials (lower-case hex) of the certificates this revocation revoked; empty
 *                       when the device held none
 */
public record DeviceRevoked(String deviceId, RevocationReason reason, String note, Instant revokedAt,
                            List<String> revokedSerials) {
    public DeviceRevoked {
        revokedSerials = List.copyOf(revokedSerials);
    }
}
