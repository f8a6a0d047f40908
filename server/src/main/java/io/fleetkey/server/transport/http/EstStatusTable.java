package io.fleetkey.server.transport.http;

import io.fleetkey.protocol.FailureCode;
import io.micronaut.http.HttpStatus;

/** The one table that turns the core's failure codes into HTTP statuses on the EST door. */
final class EstStatusTable {
    private EstStatusTable() {
    }

    static HttpStatus statusOf(FailureCode code) {
        return switch (code) {
            case MALFORMED_REQUEST, BAD_CSR_SIGNATURE, KEY_NOT_ALLOWED -> HttpStatus.BAD_REQUEST;
            case NOT_AUTHENTICATED, UNTRUSTED_CLIENT_CERTIFICATE, STALE_EVIDENCE -> HttpStatus.UNAUTHORIZED;
            case UNKNOWN_DEVICE, TOKEN_USED, TOKEN_EXPIRED, SUBJECT_MISMATCH, DEVICE_REVOKED, POLICY_VIOLATION,
                 ATTESTATION_REQUIRED, ATTESTATION_FAILED ->
                    HttpStatus.FORBIDDEN;
            case PAYLOAD_TOO_LARGE -> HttpStatus.REQUEST_ENTITY_TOO_LARGE;
            case UNSUPPORTED_MEDIA_TYPE -> HttpStatus.UNSUPPORTED_MEDIA_TYPE;
            case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
        };
    }
}
