package io.fleetkey.server.enrollment;

import java.util.Locale;

/**
 * Told of every enrollment answer and every freshness nonce, so that something outside the core
 * (the server's metrics) can count them without the core knowing how. Called on the request's
 * thread after the work is done: an implementation must be quick and must not throw.
 */
public interface EnrollmentObserver {
    /** Which EST operation the core ran. */
    enum Operation {
        /** simpleenroll */
        ENROLL,
        /** simplereenroll */
        REENROLL;

        private final String label = name().toLowerCase(Locale.ROOT);

        /** {@code enroll} or {@code reenroll}. */
        public String label() {
            return label;
        }
    }

    /** The core answered {@code result} after {@code nanos}. */
    void answered(Door door, Operation operation, EnrollmentResult result, long nanos);

    /** The core gave no answer: it threw (the registry is down, say) after {@code nanos}. */
    void failed(Door door, Operation operation, long nanos);

    /** A freshness nonce was issued. */
    void nonceIssued();
}
