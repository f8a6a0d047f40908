package io.fleetkey.agent;

import java.util.Optional;

import io.fleetkey.protocol.FailureCode;

/**
 * The EST server answered, and the answer is not a certificate: a refusal (RFC 7030 §4.2.3,
 * a 4xx or 5xx with a readable reason), or a success that does not hold what the operation
 * promises. Network and TLS failures are {@link java.io.IOException}s instead, and a request
 * that waits for approval is an {@link EnrollmentPendingException}.
 */
public final class EstException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String wireStatus;
    private final transient FailureCode code;
    private final String reason;

    /**
     * @param status the HTTP status the server answered with
     * @param code   the failure code from the {@code Fleetkey-Error} header, or null when absent or unknown
     * @param reason the server's readable reason, or ours when the server gave none; never null
     */
    public EstException(int status, FailureCode code, String reason) {
        this(status, "HTTP " + status, code, reason);
    }

    private EstException(int status, String wireStatus, FailureCode code, String reason) {
        super(wireStatus + (code == null ? "" : " " + code.name()) + ": " + reason);
        this.status = status;
        this.wireStatus = wireStatus;
        this.code = code;
        this.reason = reason;
    }

    /**
     * An answer of the CoAP door, or of the MQTT door, which uses the same codes (RFC 9148,
     * docs/mqtt-protocol.md).
     *
     * @param door       {@code CoAP} or {@code MQTT}, for the message
     * @param coapStatus the code as {@code c.dd}, e.g. {@code 4.03}; {@link #status()} is then
     *                   {@code c * 100 + dd} (403), the HTTP status of the same meaning for 4.xx and 5.xx
     */
    public static EstException ofCoapStatus(String door, String coapStatus, FailureCode code, String reason) {
        return new EstException(httpEquivalent(coapStatus), door + " " + coapStatus, code, reason);
    }

    static int httpEquivalent(String coapStatus) {
        int dot = coapStatus.indexOf('.');
        try {
            return Integer.parseInt(coapStatus.substring(0, dot)) * 100 + Integer.parseInt(coapStatus.substring(dot + 1));
        } catch (RuntimeException e) {
            return 0; // not a c.dd code: the reason still tells the story
        }
    }

    /**
     * The status of the answer: the HTTP status, or for the CoAP and MQTT doors {@code c * 100 + dd}
     * of their {@code c.dd} code (4.03 is 403); a usable-looking success that did not hold what was
     * asked for is 200.
     */
    public int status() {
        return status;
    }

    /** The status as the door wrote it: {@code HTTP 403}, {@code CoAP 4.03}, {@code MQTT 4.03}. */
    public String wireStatus() {
        return wireStatus;
    }

    /** The failure code the server named, when it named one this agent knows. */
    public Optional<FailureCode> code() {
        return Optional.ofNullable(code);
    }

    /** Why the server refused, in its own words (sanitised and shortened). */
    public String reason() {
        return reason;
    }
}
