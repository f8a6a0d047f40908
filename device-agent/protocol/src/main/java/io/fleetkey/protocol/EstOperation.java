package io.fleetkey.protocol;

/**
 * The EST operations Fleetkey serves, with their name on every door: the RFC 7030 path
 * segment (HTTPS), the RFC 9148 short path (CoAP) and the MQTT operation name.
 */
public enum EstOperation {
    CA_CERTIFICATES("cacerts", "crts"),
    SIMPLE_ENROLL("simpleenroll", "sen"),
    SIMPLE_REENROLL("simplereenroll", "sren"),
    CSR_ATTRIBUTES("csrattrs", "att");

    /** RFC 7030 §3.2.2: every EST resource lives under this path prefix. */
    public static final String WELL_KNOWN_PREFIX = "/.well-known/est";
    /**
     * The freshness nonce resource (draft-ietf-lamps-attestation-freshness), not an RFC 7030 or
     * RFC 9148 operation: {@code /.well-known/est/nonce} on HTTPS and CoAP, operation {@code nonce}
     * on MQTT ({@link MqttTopics#NONCE}).
     */
    public static final String NONCE = "nonce";

    private final String httpName;
    private final String shortName;

    EstOperation(String httpName, String shortName) {
        this.httpName = httpName;
        this.shortName = shortName;
    }

    /** Path segment of RFC 7030, e.g. {@code simpleenroll}. */
    public String httpName() {
        return httpName;
    }

    /** Short name of RFC 9148, also the MQTT operation, e.g. {@code sen}. */
    public String shortName() {
        return shortName;
    }

    /** Full HTTPS path, e.g. {@code /.well-known/est/simpleenroll}. */
    public String httpPath() {
        return WELL_KNOWN_PREFIX + "/" + httpName;
    }
}
