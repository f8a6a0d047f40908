package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.FailureCode;

/**
 * Turns a device statement in the CSR ({@link DeviceStatement} in the CSR's AttestationBundle)
 * into the proof a TLS handshake would have given: a certificate chain whose key signed
 * something only this request could carry. The statement must be signed by the first
 * certificate of the bundle, name the CSR's device, be bound to the CSR's key, and be recent;
 * whether the chain itself is trusted (a group's maker CA, or a current Fleetkey certificate)
 * is then decided exactly as for a TLS client certificate.
 */
final class StatementProof {
    /** How old a statement may be: long enough for a slow link and a retry, short enough to make a replay stale. */
    static final Duration MAX_AGE = Duration.ofMinutes(10);
    /** Device clocks run ahead a little. */
    static final Duration MAX_FUTURE = Duration.ofMinutes(2);

    private StatementProof() {
    }

    /**
     * A statement whose signature, claims and age hold: the chain it proves, and its nonce (null
     * when it has none), which the caller spends once the chain itself is trusted.
     */
    record Verified(ChannelProof.ClientCertificate proof, String nonce) {
    }

    /** Empty when the CSR carries no device statement; otherwise what it proves, or why not. */
    static Optional<Outcome<Verified>> check(ParsedCsr csr, Instant now) {
        AttestationBundle bundle = csr.attestation();
        Optional<String> jwt;
        try {
            jwt = bundle == null ? Optional.empty() : bundle.deviceStatement();
        } catch (IllegalArgumentException e) {
            return Optional.of(Outcome.no(FailureCode.MALFORMED_REQUEST, e.getMessage()));
        }
        if (jwt.isEmpty()) {
            return Optional.empty();
        }
        List<X509Certificate> chain = bundle.certificates();
        if (chain.isEmpty()) {
            return Optional.of(Outcome.no(FailureCode.NOT_AUTHENTICATED, "the AttestationBundle carries a device "
                    + "statement but no certificates; put the signer's certificate first, then its chain"));
        }
        DeviceStatement.Claims claims;
        try {
            claims = DeviceStatement.verify(jwt.get(), chain.get(0).getPublicKey());
        } catch (DeviceStatement.InvalidStatement e) {
            return Optional.of(Outcome.no(FailureCode.NOT_AUTHENTICATED, e.getMessage()));
        }
        if (!claims.deviceId().equals(csr.deviceId())) {
            return Optional.of(Outcome.no(FailureCode.SUBJECT_MISMATCH, "the device statement names '"
                    + CsrChecker.printable(claims.deviceId()) + "' but the CSR's CN is '" + csr.deviceId() + "'"));
        }
        if (!claims.csrKeySha256().equalsIgnoreCase(csr.publicKeySha256())) {
            return Optional.of(Outcome.no(FailureCode.NOT_AUTHENTICATED, "the device statement is bound to another "
                    + "key than the CSR's (" + DeviceStatement.KEY_BINDING + " must be the SHA-256 of the CSR's "
                    + "SubjectPublicKeyInfo)"));
        }
        if (claims.issuedAt().isBefore(now.minus(MAX_AGE)) || claims.issuedAt().isAfter(now.plus(MAX_FUTURE))) {
            return Optional.of(Outcome.no(FailureCode.NOT_AUTHENTICATED, "the device statement was made at "
                    + claims.issuedAt() + "; it must be at most " + MAX_AGE.toMinutes() + " minutes old (server time "
                    + now + "): make a new one, and check the device's clock"));
        }
        return Optional.of(Outcome.ok(new Verified(new ChannelProof.ClientCertificate(chain), claims.nonce())));
    }
}
