package io.fleetkey.server.policy;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The configured certificate profiles, by name. */
public final class ProfileCatalog {
    private final Map<String, CertificateProfile> profiles = new TreeMap<>();

    public ProfileCatalog(Collection<CertificateProfile> profiles) {
        for (CertificateProfile p : profiles) {
            this.profiles.put(p.name(), p);
        }
    }

    public Optional<CertificateProfile> find(String name) {
        return Optional.ofNullable(profiles.get(name));
    }

    public Collection<String> names() {
        return profiles.keySet();
    }
}
