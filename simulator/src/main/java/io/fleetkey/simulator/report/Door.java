package io.fleetkey.simulator.report;

/** The server's doors a simulated device can enroll through. */
public enum Door {
    HTTPS("HTTPS"),
    COAP("CoAP"),
    MQTT("MQTT");

    private final String label;

    Door(String label) {
        this.label = label;
    }

    /** How the report prints the door. */
    public String label() {
        return label;
    }
}
