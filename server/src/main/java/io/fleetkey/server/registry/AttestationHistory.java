package io.fleetkey.server.registry;

/**
 * The appraisals of devices' evidence. Implementations join the caller's {@link Transactions}
 * transaction when there is one, so an appraisal that led to a certificate is committed with it.
 */
public interface AttestationHistory {
    /**
     * Appends an appraisal; unless its result is {@link AttestationResult#UNVERIFIED}, it also
     * becomes the device's current attestation result.
     */
    void append(AttestationRecord appraisal);

    /** A device's appraisals, newest first. */
    Page<AttestationRecord> of(String deviceId, int page, int size);
}
