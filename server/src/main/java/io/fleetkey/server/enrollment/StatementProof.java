package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.FailureCode;

/**
 * Finds the device statement in a CSR's AttestationBundle and has the verifier of its format
 * check it. A statement that holds is the proof a TLS handshake would have given (a certificate
 * chain whose key signed something only this request could carry) and, with its claims, the
 * device's evidence. Whether the chain is trusted (a group's maker CA, or a current Fleetkey
 * certificate) is then decided exactly as for a TLS client certificate.
 */
final class StatementProof {
    private final List<EvidenceVerifier> verifiers;

    /** @param verifiers one per statement format this server reads */
    StatementProof(List<EvidenceVerifier> verifiers) {
        this.verifiers = List.copyOf(verifiers);
    }

    /**
     * A statement whose signature, claims and age hold: the chain that signed it, its nonce (null
     * when it has none), which the caller spends once the chain itself is trusted, and its claims.
     */
    record Verified(ChannelProof.ClientCertificate signer, String nonce, DeviceStatement.Claims claims) {
        String signerName() {
            X509Certificate leaf = signer.leaf();
            return leaf.getSubjectX500Principal().getName() + " (serial " + leaf.getSerialNumber().toString(16) + ")";
        }
    }

    /** Empty when the CSR carries no statement; otherwise what it proves, or why not. */
    Optional<Outcome<Verified>> check(ParsedCsr csr, Instant now) {
        AttestationBundle bundle = csr.attestation();
        if (bundle == null) {
            return Optional.empty();
        }
        for (AttestationBundle.Statement statement : bundle.statements()) {
            for (EvidenceVerifier verifier : verifiers) {
                if (verifier.statementType().equals(statement.type())) {
                    return Optional.of(verify(verifier, statement, bundle.certificates(), csr, now));
                }
            }
        }
        return Optional.of(Outcome.no(FailureCode.MALFORMED_REQUEST, "the CSR's AttestationBundle holds no statement "
                + "of a type this server reads (" + bundle.statements().get(0).type() + "); Fleetkey device "
                + "statements have type " + verifiers.get(0).statementType()));
    }

    private static Outcome<Verified> verify(EvidenceVerifier verifier, AttestationBundle.Statement statement,
                                            List<X509Certificate> chain, ParsedCsr csr, Instant now) {
        Outcome<DeviceStatement.Claims> claims = verifier.verify(statement, chain, csr, now);
        if (claims instanceof Outcome.No<DeviceStatement.Claims> no) {
            return new Outcome.No<>(no.refused());
        }
        DeviceStatement.Claims ok = ((Outcome.Ok<DeviceStatement.Claims>) claims).value();
        return Outcome.ok(new Verified(new ChannelProof.ClientCertificate(chain), ok.nonce(), ok));
    }
}
