package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

/**
 * Which devices a revocation by attribute takes. Every given criterion must hold; a null one does
 * not filter. The attestation criteria look at the device's latest verified appraisal (evidence
 * whose signature did not verify never counts, so a device cannot dodge a filter with made-up claims).
 *
 * @param component     with {@code sha256}: a measured component the latest appraisal reported
 * @param sha256        that component's digest, lower-case hex
 * @param swVersion     the software version the latest appraisal reported
 * @param enrolledFrom  the device's first certificate was issued at or after this instant
 * @param enrolledTo    ... and before this one
 * @param deviceIds     explicit device ids, at most {@link FleetService#MAX_BULK}
 */
public record RevocationFilter(String group, String component, String sha256, String swVersion,
                               Instant enrolledFrom, Instant enrolledTo, List<String> deviceIds) {
    public RevocationFilter {
        deviceIds = deviceIds == null ? null : List.copyOf(deviceIds);
    }

    public boolean isEmpty() {
        return group == null && sha256 == null && swVersion == null && enrolledFrom == null && enrolledTo == null
                && deviceIds == null;
    }

    public boolean looksAtAttestation() {
        return sha256 != null || swVersion != null;
    }

    /** A device the filter matched, with its status (revoked ones are counted, never revoked again). */
    public record Candidate(String deviceId, DeviceStatus status) {
    }
}
