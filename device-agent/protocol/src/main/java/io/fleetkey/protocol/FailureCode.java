package io.fleetkey.protocol;

/**
 * Why an enrollment was refused. Every door maps these codes to its own status
 * (HTTP 4xx, CoAP 4.xx, an MQTT error reply) in one table; the code's name is also what
 * clients see in machine-readable replies, so names are part of the wire contract.
 */
public enum FailureCode {
    /** The request body is not what the operation expects: bad base64, bad DER, no CN. */
    MALFORMED_REQUEST,
    /** The CSR's signature does not verify with its own public key (no proof of possession). */
    BAD_CSR_SIGNATURE,
    /** The CSR's public key type or size is not allowed by the key policy or profile. */
    KEY_NOT_ALLOWED,
    /** The channel proved nothing, or proved an identity that does not check out. */
    NOT_AUTHENTICATED,
    /** The client certificate does not chain to a trust anchor of the device's group. */
    UNTRUSTED_CLIENT_CERTIFICATE,
    /** No device of that id is registered. */
    UNKNOWN_DEVICE,
    /** The one-time enrollment token was already used for another request. */
    TOKEN_USED,
    /** The one-time enrollment token has expired. */
    TOKEN_EXPIRED,
    /** The CSR asks for a name the authenticated device may not have. */
    SUBJECT_MISMATCH,
    /** The device or the certificate it authenticated with is revoked. */
    DEVICE_REVOKED,
    /** The group's policy forbids what the CSR asks for (e.g. a DNS name). */
    POLICY_VIOLATION,
    /**
     * The evidence is not fresh: its nonce is unknown, expired or used by another request, or it
     * was made too long ago. Get a new nonce, make new evidence and try again.
     */
    STALE_EVIDENCE,
    /** The device's group requires evidence (attestation) on this request, with a nonce where the group says so. */
    ATTESTATION_REQUIRED,
    /** The evidence does not match the group's reference values (contraindicated, or a warning the group refuses). */
    ATTESTATION_FAILED,
    /** The request body is larger than the server accepts. */
    PAYLOAD_TOO_LARGE,
    /** The request's content type is not the one the operation takes. */
    UNSUPPORTED_MEDIA_TYPE,
    /** The server is not able to serve the request right now; retrying later may work. */
    UNAVAILABLE
}
