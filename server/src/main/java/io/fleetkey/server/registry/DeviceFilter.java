package io.fleetkey.server.registry;

/** Filters of the device listing; a null field does not filter. */
public record DeviceFilter(String group, DeviceStatus status, String idPrefix, AttestationResult attestation) {
    public DeviceFilter(String group, DeviceStatus status, String idPrefix) {
        this(group, status, idPrefix, null);
    }
}
