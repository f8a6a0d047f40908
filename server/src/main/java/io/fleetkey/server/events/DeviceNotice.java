package io.fleetkey.server.events;

import java.time.Instant;

/**
 * Something a device should be told without asking: published as an application event after
 * the change is committed; the MQTT door turns it into a message on the device's events topic.
 *
 * @param reason for people (a revocation's RFC 5280 reason name and note, or why to renew); may be null
 */
public record DeviceNotice(String deviceId, Kind kind, Instant at, String reason) {
    public enum Kind {
        /** The device and its certificates are revoked; it should stop using them and stop retrying. */
        REVOKED,
        /** A fleet manager asks the device to renew its certificate now. */
        RENEW_NOW;

        /** The name on the wire ({@code "revoked"}, {@code "renew-now"}). */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }
}
