package io.fleetkey.server.registry;

/** RFC 6960 vocabulary: a certificate we issued is either good or revoked. */
public enum CertificateStatus {
    GOOD,
    REVOKED
}
