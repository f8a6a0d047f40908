package io.fleetkey.server.registry;

/** Filters of the device listing; a null field does not filter. */
public record DeviceFilter(String group, DeviceStatus status, String idPrefix) {
}
