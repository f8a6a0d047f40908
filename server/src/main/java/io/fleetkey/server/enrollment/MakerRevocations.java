package io.fleetkey.server.enrollment;

import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * Factory identities their maker has revoked, from the maker CRLs a fleet manager put on a
 * group (their signatures were checked against the group's maker CAs when they were added).
 * A CRL past its nextUpdate still counts: an old list of revoked IDevIDs is better than none.
 */
final class MakerRevocations {
    private MakerRevocations() {
    }

    /** @return why the chain is revoked, or empty */
    static Optional<String> check(List<X509Certificate> chain, List<X509CRL> crls) {
        if (crls.isEmpty()) {
            return Optional.empty();
        }
        for (X509Certificate certificate : chain) {
            for (X509CRL crl : crls) {
                if (!crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal())) {
                    continue;
                }
                X509CRLEntry entry = crl.getRevokedCertificate(certificate);
                if (entry != null) {
                    return Optional.of("factory certificate '" + certificate.getSubjectX500Principal().getName()
                            + "' (serial " + certificate.getSerialNumber().toString(16) + ") was revoked by its maker on "
                            + entry.getRevocationDate().toInstant()
                            + (entry.getRevocationReason() == null ? "" : " (" + entry.getRevocationReason() + ")"));
                }
            }
        }
        return Optional.empty();
    }
}
