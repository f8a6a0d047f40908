package io.fleetkey.server.registry;

import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * Devices that share a profile, trust anchors and policy.
 *
 * @param makerCas        trust anchors for factory identities (IDevID) of this group's devices
 * @param requireApproval first enrollment waits for a fleet manager's approval
 * @param allowedDnsNames DNS names devices may ask for as SANs, exact or {@code *.suffix}
 * @param makerCrls       CRLs of the maker CAs: factory identities their maker revoked
 * @param attestation     attestation policy and reference values
 */
public record EnrollmentGroup(String name, String profile, List<X509Certificate> makerCas,
                              boolean requireApproval, List<String> allowedDnsNames, Instant createdAt,
                              List<X509CRL> makerCrls, AttestationPolicy attestation) {
    public EnrollmentGroup {
        makerCas = List.copyOf(makerCas);
        allowedDnsNames = List.copyOf(allowedDnsNames);
        makerCrls = List.copyOf(makerCrls);
    }

    /** Whether a DNS name requested in a CSR is allowed by this group's policy. */
    public boolean allowsDnsName(String dnsName) {
        String name = dnsName.toLowerCase(java.util.Locale.ROOT);
        for (String pattern : allowedDnsNames) {
            String p = pattern.toLowerCase(java.util.Locale.ROOT);
            if (p.startsWith("*.")) {
                String suffix = p.substring(1);
                // One label only, as wildcard certificates do (RFC 6125 §6.4.3).
                if (name.endsWith(suffix) && name.length() > suffix.length()
                        && name.substring(0, name.length() - suffix.length()).indexOf('.') < 0) {
                    return true;
                }
            } else if (p.equals(name)) {
                return true;
            }
        }
        return false;
    }
}
