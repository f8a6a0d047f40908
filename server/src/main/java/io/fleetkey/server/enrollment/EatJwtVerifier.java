package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.CsrAttestation;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.FailureCode;

/** Fleetkey device statements: an EAT (RFC 9711) as a signed JWT ({@link DeviceStatement}). */
final class EatJwtVerifier implements EvidenceVerifier {
    /** How old a statement may be: long enough for a slow link and a retry, short enough to make a replay stale. */
    static final Duration MAX_AGE = Duration.ofMinutes(10);
    /** Device clocks run ahead a little. */
    static final Duration MAX_FUTURE = Duration.ofMinutes(2);

    /** Provider of the signature check (Bouncy Castle's ECDSA is much faster than JDK 17's), or null for the default. */
    private final java.security.Provider provider;

    EatJwtVerifier(io.fleetkey.server.authority.CryptoProvider provider) {
        this.provider = provider.name() == null ? null : java.security.Security.getProvider(provider.name());
    }

    @Override
    public String statementType() {
        return CsrAttestation.FLEETKEY_EAT_JWT;
    }

    @Override
    public Outcome<DeviceStatement.Claims> verify(AttestationBundle.Statement statement, List<X509Certificate> chain,
                                                  ParsedCsr csr, Instant now) {
        DeviceStatement.Claims claims;
        try {
            String jwt = statement.eatJwt().orElseThrow();
            if (chain.isEmpty()) {
                return Outcome.no(FailureCode.NOT_AUTHENTICATED, "the AttestationBundle carries a device statement but "
                        + "no certificates; put the signer's certificate first, then its chain");
            }
            claims = DeviceStatement.verify(jwt, chain.get(0).getPublicKey(), provider);
        } catch (IllegalArgumentException e) {
            return Outcome.no(FailureCode.MALFORMED_REQUEST, e.getMessage());
        } catch (DeviceStatement.InvalidStatement e) {
            return Outcome.no(FailureCode.NOT_AUTHENTICATED, e.getMessage());
        }
        if (!claims.deviceId().equals(csr.deviceId())) {
            return Outcome.no(FailureCode.SUBJECT_MISMATCH, "the device statement names '"
                    + CsrChecker.printable(claims.deviceId()) + "' but the CSR's CN is '" + csr.deviceId() + "'");
        }
        if (!claims.csrKeySha256().equalsIgnoreCase(csr.publicKeySha256())) {
            return Outcome.no(FailureCode.NOT_AUTHENTICATED, "the device statement is bound to another key than the "
                    + "CSR's (" + DeviceStatement.KEY_BINDING + " must be the SHA-256 of the CSR's SubjectPublicKeyInfo)");
        }
        if (claims.issuedAt().isBefore(now.minus(MAX_AGE))) {
            return Outcome.no(FailureCode.STALE_EVIDENCE, "the device statement was made at " + claims.issuedAt()
                    + "; it must be at most " + MAX_AGE.toMinutes() + " minutes old (server time " + now
                    + "): make a new one, and check the device's clock");
        }
        if (claims.issuedAt().isAfter(now.plus(MAX_FUTURE))) {
            return Outcome.no(FailureCode.STALE_EVIDENCE, "the device statement says it was made at "
                    + claims.issuedAt() + ", more than " + MAX_FUTURE.toMinutes() + " minutes ahead of server time "
                    + now + ": set the device's clock (NTP) and make a new one");
        }
        return Outcome.ok(claims);
    }
}
