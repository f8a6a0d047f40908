package io.fleetkey.simulator.report;

/** What a simulated device did, timed and counted on its own in the report. */
public enum Operation {
    /** First enrollment (EST simpleenroll or its CoAP/MQTT counterpart). */
    ENROLL("enroll"),
    /** Renewal with the current certificate (EST simplereenroll). */
    RENEW("renew"),
    /** Revocation of the device through the fleet API. */
    REVOKE("revoke"),
    /** The check that a revoked device is cut off: it succeeds when the door refuses or drops the device. */
    CUT_OFF("cut-off check"),
    /** A device coming back after it was away (churn: it renews) or after a fault (it enrolls again). */
    RECONNECT("reconnect"),
    /** A device wiped by a factory reset: a new token from the fleet API, a fresh key, first boot again. */
    REJOIN("re-enroll after reset"),
    /** A device new to the fleet during churn: registered through the fleet API, then its first boot. */
    JOIN("join");

    private final String label;

    Operation(String label) {
        this.label = label;
    }

    /** How the report prints the operation. */
    public String label() {
        return label;
    }
}
