package io.fleetkey.server.registry;

/** Where a device stands in its life. */
public enum DeviceStatus {
    /** Known to the fleet, no certificate yet. */
    REGISTERED,
    /** Asked for a certificate; its group needs a fleet manager's approval first. */
    PENDING_APPROVAL,
    /** Holds an operational certificate. */
    ENROLLED,
    /** Cut off: its certificates are revoked and it can no longer enroll. */
    REVOKED
}
