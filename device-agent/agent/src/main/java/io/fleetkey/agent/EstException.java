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
    private final transient FailureCode code;
    private final String reason;

    /**
     * @param status the HTTP status the server answered with
     * @param code   the failure code from the {@code Fleetkey-Error} header, or null when absent or unknown
     * @param reason the server's readable reason, or ours when the server gave none; never null
     */
    public EstException(int status, FailureCode code, String reason) {
        super("HTTP " + status + (code == null ? "" : " " + code.name()) + ": " + reason);
        this.status = status;
        this.code = code;
        this.reason = reason;
    }

    /** The HTTP status of the answer. */
    public int status() {
        return status;
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
