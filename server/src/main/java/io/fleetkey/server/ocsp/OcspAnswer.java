package io.fleetkey.server.ocsp;

/**
 * What the responder says to one request: the DER OCSPResponse to send (always one, also for
 * refusals, as RFC 5019 clients expect), its status, and for a refusal a reason an operator can read.
 *
 * @param reason     why the request was refused, or null when it was answered
 * @param cached     whether the response was served from the cache rather than signed for this request
 * @param verdict    for a successful response, what it says: {@code revoked} if it names a revoked
 *                   certificate, else {@code unknown} if it names one the registry does not know, else
 *                   {@code good}; null for a refusal
 */
public record OcspAnswer(byte[] der, Status status, String reason, boolean cached, String verdict) {
    static OcspAnswer refused(byte[] der, Status status, String reason) {
        return new OcspAnswer(der, status, reason, false, null);
    }

    /** The same answer, served again from the cache. */
    OcspAnswer fromCache() {
        return new OcspAnswer(der, status, reason, true, verdict);
    }

    /**
     * One word for what was answered, for counting: the verdict of a successful response, else the
     * RFC 6960 response status ({@code malformedRequest}, {@code internalError}, {@code tryLater},
     * {@code unauthorized}).
     */
    public String label() {
        return status == Status.SUCCESSFUL ? verdict : status.label;
    }

    /** RFC 6960 §4.2.1 OCSPResponseStatus, with its code. */
    public enum Status {
        SUCCESSFUL(0, "successful"),
        MALFORMED_REQUEST(1, "malformedRequest"),
        INTERNAL_ERROR(2, "internalError"),
        TRY_LATER(3, "tryLater"),
        UNAUTHORIZED(6, "unauthorized");

        private final int code;
        private final String label;

        Status(int code, String label) {
            this.code = code;
            this.label = label;
        }

        public int code() {
            return code;
        }

        /** The RFC 6960 name, e.g. {@code malformedRequest}. */
        public String label() {
            return label;
        }
    }
}
