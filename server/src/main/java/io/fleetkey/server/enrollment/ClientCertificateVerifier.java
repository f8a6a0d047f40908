package io.fleetkey.server.enrollment;

import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a client certificate chain against trust anchors with the JDK's RFC 5280 path
 * validation, at a given time, verifying signatures with the configured provider (Bouncy
 * Castle's ECDSA is several times faster than JDK 17's). Revocation of factory identities is
 * checked apart ({@link MakerRevocations}). Stateless and thread-safe.
 */
final class ClientCertificateVerifier {
    /** JCA provider name for the signatures of the path, or null for the JDK's default. */
    private final String sigProvider;

    ClientCertificateVerifier(String sigProvider) {
        this.sigProvider = sigProvider;
    }

    /**
     * @return empty if {@code chain} (leaf first; extra certificates are tolerated) leads to one
     * of {@code anchors}, else a readable reason
     */
    Optional<String> verify(List<X509Certificate> chain, Collection<X509Certificate> anchors, Instant at) {
        return check(chain, anchors, at).map(Problem::reason);
    }

    /** What is wrong with a chain; {@code expired} tells a lapsed chain from an untrusted one. */
    record Problem(boolean expired, String reason) {
    }

    Optional<Problem> check(List<X509Certificate> chain, Collection<X509Certificate> anchors, Instant at) {
        if (anchors.isEmpty()) {
            return Optional.of(new Problem(false, "no trust anchor is configured"));
        }
        // Drop any anchor the client sent along: the path ends below the anchor.
        List<X509Certificate> path = new ArrayList<>();
        for (X509Certificate c : chain) {
            if (anchors.contains(c)) {
                break;
            }
            path.add(c);
        }
        if (path.isEmpty()) {
            return Optional.of(new Problem(false, "the client certificate is itself a trust anchor, not an end-entity certificate"));
        }
        try {
            Set<TrustAnchor> trustAnchors = new HashSet<>();
            for (X509Certificate a : anchors) {
                trustAnchors.add(new TrustAnchor(a, null));
            }
            PKIXParameters params = new PKIXParameters(trustAnchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(at));
            if (sigProvider != null) {
                params.setSigProvider(sigProvider);
            }
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
            return Optional.empty();
        } catch (CertPathValidatorException e) {
            return Optional.of(new Problem(e.getReason() == CertPathValidatorException.BasicReason.EXPIRED, reason(e)));
        } catch (GeneralSecurityException e) {
            return Optional.of(new Problem(false, "the chain cannot be checked: " + e.getMessage()));
        }
    }

    private static String reason(CertPathValidatorException e) {
        if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
            return "a certificate of the chain has expired";
        }
        if (e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
            return "a certificate of the chain is not yet valid";
        }
        if (e.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
            return "a signature in the chain does not verify";
        }
        return "it does not chain to a trusted CA (" + e.getMessage() + ")";
    }
}
