package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import io.fleetkey.protocol.FailureCode;

/** The core's decision on an enrollment: a value, never an exception. */
public sealed interface EnrollmentResult {
    /**
     * A certificate, already recorded in the registry.
     *
     * @param caChain  issuing CA first, root last
     * @param repeated true when this is the certificate an earlier, identical request got
     */
    record Issued(X509Certificate certificate, List<X509Certificate> caChain, boolean repeated)
            implements EnrollmentResult {
    }

    /** Accepted but waiting (for a fleet manager's approval); ask again after {@code retryAfter}. */
    record Pending(Duration retryAfter, String reason) implements EnrollmentResult {
    }

    /** Refused, with a code for machines and a reason for people. */
    record Refused(FailureCode code, String reason) implements EnrollmentResult {
    }
}
