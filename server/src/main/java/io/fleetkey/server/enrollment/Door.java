package io.fleetkey.server.enrollment;

import java.util.Locale;

/** The door a request came in by; it names itself when it calls the core, for the metrics. */
public enum Door {
    /** EST over HTTPS (RFC 7030). */
    HTTPS,
    /** EST-coaps: CoAP over DTLS (RFC 9148). */
    COAPS,
    /** EST over MQTT (docs/mqtt-protocol.md). */
    MQTT;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The lower-case name metrics use: {@code https}, {@code coaps}, {@code mqtt}. */
    public String label() {
        return label;
    }
}
