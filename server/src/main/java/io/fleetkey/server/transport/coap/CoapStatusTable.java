package io.fleetkey.server.transport.coap;

import io.fleetkey.protocol.FailureCode;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;

/** The one table that turns the core's failure codes into CoAP response codes on the EST-coaps door. */
final class CoapStatusTable {
    private CoapStatusTable() {
    }

    static ResponseCode codeOf(FailureCode code) {
        return switch (code) {
            case MALFORMED_REQUEST, BAD_CSR_SIGNATURE, KEY_NOT_ALLOWED -> ResponseCode.BAD_REQUEST;
            case NOT_AUTHENTICATED, UNTRUSTED_CLIENT_CERTIFICATE -> ResponseCode.UNAUTHORIZED;
            case UNKNOWN_DEVICE, TOKEN_USED, TOKEN_EXPIRED, SUBJECT_MISMATCH, DEVICE_REVOKED, POLICY_VIOLATION ->
                    ResponseCode.FORBIDDEN;
            case PAYLOAD_TOO_LARGE -> ResponseCode.REQUEST_ENTITY_TOO_LARGE;
            case UNSUPPORTED_MEDIA_TYPE -> ResponseCode.UNSUPPORTED_CONTENT_FORMAT;
            case UNAVAILABLE -> ResponseCode.SERVICE_UNAVAILABLE;
        };
    }
}
