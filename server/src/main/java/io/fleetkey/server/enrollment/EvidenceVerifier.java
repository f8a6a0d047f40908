package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.DeviceStatement;

/**
 * Checks one format of evidence statement found in a CSR's AttestationBundle: that the signer
 * certificate's key signed it, that it names the CSR's device, is bound to the CSR's key and is
 * recent. Whether the signer is trusted, the nonce fresh, and the claims good are decided
 * afterwards, the same way for every format. One implementation per statement type.
 */
interface EvidenceVerifier {
    /** The AttestationStatement type (OID) this verifier reads. */
    String statementType();

    /**
     * The statement's claims, or why it cannot be accepted (in words a device log can show).
     *
     * @param chain the bundle's certificates: the signer's first, then its chain (may be empty, which fails)
     */
    Outcome<DeviceStatement.Claims> verify(AttestationBundle.Statement statement, List<X509Certificate> chain,
                                           ParsedCsr csr, Instant now);
}
