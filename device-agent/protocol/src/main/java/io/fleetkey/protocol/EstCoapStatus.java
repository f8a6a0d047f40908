package io.fleetkey.protocol;

/**
 * The CoAP response codes of EST-coaps (RFC 9148), written {@code c.dd} as in RFC 7252. The
 * CoAP door answers with them and the MQTT door puts them in its response topics, so one
 * request gets the same code on both doors; this is the one table from failure code to status.
 */
public final class EstCoapStatus {
    /** sen, sren: a certificate (RFC 9148 §4.4). */
    public static final String CHANGED = "2.04";
    /** crts, att: the content asked for. */
    public static final String CONTENT = "2.05";
    public static final String BAD_REQUEST = "4.00";
    public static final String UNAUTHORIZED = "4.01";
    public static final String FORBIDDEN = "4.03";
    public static final String NOT_FOUND = "4.04";
    public static final String NOT_ACCEPTABLE = "4.06";
    public static final String REQUEST_ENTITY_TOO_LARGE = "4.13";
    public static final String UNSUPPORTED_CONTENT_FORMAT = "4.15";
    public static final String INTERNAL_SERVER_ERROR = "5.00";
    /** Not now: pending approval, or the server is busy; ask again after the time given (RFC 9148 §4.7). */
    public static final String SERVICE_UNAVAILABLE = "5.03";

    private EstCoapStatus() {
    }

    /** The status a refusal with this code is answered with. */
    public static String of(FailureCode code) {
        return switch (code) {
            case MALFORMED_REQUEST, BAD_CSR_SIGNATURE, KEY_NOT_ALLOWED -> BAD_REQUEST;
            case NOT_AUTHENTICATED, UNTRUSTED_CLIENT_CERTIFICATE, STALE_EVIDENCE -> UNAUTHORIZED;
            case UNKNOWN_DEVICE, TOKEN_USED, TOKEN_EXPIRED, SUBJECT_MISMATCH, DEVICE_REVOKED, POLICY_VIOLATION,
                 ATTESTATION_REQUIRED, ATTESTATION_FAILED -> FORBIDDEN;
            case PAYLOAD_TOO_LARGE -> REQUEST_ENTITY_TOO_LARGE;
            case UNSUPPORTED_MEDIA_TYPE -> UNSUPPORTED_CONTENT_FORMAT;
            case UNAVAILABLE -> SERVICE_UNAVAILABLE;
        };
    }

    /** True for 2.xx. */
    public static boolean isSuccess(String status) {
        return status != null && status.startsWith("2.");
    }
}
