package io.fleetkey.server.enrollment;

/**
 * Why a client certificate chain may not open a session: untrusted, expired or revoked, with a
 * reason for the log. Doors turn the kind into their protocol's alert.
 */
public record ChainRefusal(Kind kind, String reason) {
    public enum Kind {
        UNTRUSTED,
        EXPIRED,
        REVOKED
    }

    static ChainRefusal of(ClientCertificateVerifier.Problem problem) {
        return new ChainRefusal(problem.expired() ? Kind.EXPIRED : Kind.UNTRUSTED, problem.reason());
    }
}
