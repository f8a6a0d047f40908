package io.fleetkey.server.policy;

import java.time.Duration;
import java.util.Set;

/**
 * The shape of an issued certificate.
 *
 * @param extendedKeyUsages {@code clientAuth} and/or {@code serverAuth}
 * @param allowDnsNames     whether DNS SANs requested in a CSR may be copied (each name must
 *                          still be allowed by the device's group)
 */
public record CertificateProfile(String name, Duration validity, Set<String> extendedKeyUsages,
                                 boolean allowDnsNames, Set<AllowedKey> allowedKeys) {
    public static final String CLIENT_AUTH = "clientAuth";
    public static final String SERVER_AUTH = "serverAuth";

    public CertificateProfile {
        extendedKeyUsages = Set.copyOf(extendedKeyUsages);
        allowedKeys = Set.copyOf(allowedKeys);
    }
}
