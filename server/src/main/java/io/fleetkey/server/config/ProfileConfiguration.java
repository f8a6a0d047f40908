package io.fleetkey.server.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import io.fleetkey.server.policy.AllowedKey;
import io.fleetkey.server.policy.CertificateProfile;
import io.micronaut.context.annotation.EachProperty;
import io.micronaut.context.annotation.Parameter;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;

/** One certificate profile under {@code fleetkey.profiles.<name>}. */
@EachProperty("fleetkey.profiles")
public class ProfileConfiguration {
    private final String name;
    @NotNull
    private Duration validity = Duration.ofDays(90);
    @NotEmpty
    private List<String> extendedKeyUsages = new ArrayList<>(List.of(CertificateProfile.CLIENT_AUTH));
    private boolean allowDnsNames;
    @NotEmpty
    private Set<AllowedKey> allowedKeys = EnumSet.allOf(AllowedKey.class);

    public ProfileConfiguration(@Parameter String name) {
        this.name = name;
    }

    public String getName() {
        return name;
    }

    public Duration getValidity() {
        return validity;
    }

    public void setValidity(Duration validity) {
        this.validity = validity;
    }

    public List<String> getExtendedKeyUsages() {
        return extendedKeyUsages;
    }

    public void setExtendedKeyUsages(List<String> extendedKeyUsages) {
        this.extendedKeyUsages = extendedKeyUsages;
    }

    public boolean isAllowDnsNames() {
        return allowDnsNames;
    }

    public void setAllowDnsNames(boolean allowDnsNames) {
        this.allowDnsNames = allowDnsNames;
    }

    public Set<AllowedKey> getAllowedKeys() {
        return allowedKeys;
    }

    public void setAllowedKeys(Set<AllowedKey> allowedKeys) {
        this.allowedKeys = allowedKeys;
    }

    /** Checks the values and builds the profile; a bad value stops start-up with a fix-it message. */
    public CertificateProfile toProfile() {
        for (String eku : extendedKeyUsages) {
            if (!CertificateProfile.CLIENT_AUTH.equals(eku) && !CertificateProfile.SERVER_AUTH.equals(eku)) {
                throw new IllegalStateException("fleetkey.profiles." + name + ".extended-key-usages has '" + eku
                        + "'; allowed values are clientAuth and serverAuth");
            }
        }
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalStateException("fleetkey.profiles." + name + ".validity must be positive, e.g. 90d");
        }
        return new CertificateProfile(name, validity, Set.copyOf(extendedKeyUsages), allowDnsNames, allowedKeys);
    }
}
