package io.fleetkey.server.ocsp;

/**
 * What the responder says to one request: the DER OCSPResponse to send (always one, also for
 * refusals, as RFC 5019 clients expect), its status, and for a refusal a reason an operator can read.
 *
 * @param reason why the request was refused, or null when it was answered
 * @param cached whether the response was served from the cache rather than signed for this request
 */
public record OcspAnswer(byte[] der, Status status, String reason, boolean cached) {
    /** RFC 6960 §4.2.1 OCSPResponseStatus, with its code. */
    public enum Status {
        SUCCESSFUL(0),
        MALFORMED_REQUEST(1),
        INTERNAL_ERROR(2),
        TRY_LATER(3),
        UNAUTHORIZED(6);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }
}
