package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.Evidence;

/**
 * One appraisal of a device's evidence, as kept in its attestation history.
 *
 * @param operation what the device asked for: {@code enroll} or {@code renew}
 * @param decision  what was done with the request
 * @param reasons   why the result is not affirming, or why the evidence was not verified
 * @param evidence  the claims the device made (empty when they could not be verified)
 * @param signer    subject and serial of the certificate that signed the evidence, or null
 * @param serial    the certificate issued on this appraisal, or null
 */
public record AttestationRecord(Instant appraisedAt, String deviceId, String operation, AttestationResult result,
                                Decision decision, List<String> reasons, Evidence evidence, String signer,
                                String serial) {
    public AttestationRecord {
        reasons = List.copyOf(reasons);
    }

    public enum Decision {
        ISSUED, RESTRICTED, HELD, REFUSED
    }
}
