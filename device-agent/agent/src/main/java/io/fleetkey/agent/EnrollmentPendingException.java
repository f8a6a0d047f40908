package io.fleetkey.agent;

import java.time.Duration;

/**
 * RFC 7030 §4.2.3: the server accepted the request but holds it (202), typically until a fleet
 * manager approves the device. Sending the same CSR again after {@link #retryAfter()} gets the
 * certificate once it is approved; the key must therefore be kept.
 */
public final class EnrollmentPendingException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Duration retryAfter;
    private final String reason;

    public EnrollmentPendingException(Duration retryAfter, String reason) {
        super("enrollment is pending, retry after " + retryAfter.toSeconds() + " s: " + reason);
        this.retryAfter = retryAfter;
        this.reason = reason;
    }

    /** How long to wait before asking again, from the server's {@code Retry-After}. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** The server's readable explanation. */
    public String reason() {
        return reason;
    }
}
