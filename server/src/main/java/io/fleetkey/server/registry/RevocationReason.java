package io.fleetkey.server.registry;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Why a device's certificates were revoked: the RFC 5280 §5.3.1 CRLReason values a fleet
 * manager may give. Revocation is final here, so certificateHold (and removeFromCRL, which only
 * lifts a hold) are not offered; cACompromise and aACompromise are about authorities, not devices.
 */
public enum RevocationReason {
    UNSPECIFIED(0, "unspecified"),
    KEY_COMPROMISE(1, "keyCompromise"),
    AFFILIATION_CHANGED(3, "affiliationChanged"),
    SUPERSEDED(4, "superseded"),
    CESSATION_OF_OPERATION(5, "cessationOfOperation"),
    PRIVILEGE_WITHDRAWN(9, "privilegeWithdrawn");

    /** RFC 5280 names that exist but are refused, with why (keys in the normalized form of {@link #key}). */
    private static final Map<String, String> REFUSED = Map.of(
            "certificatehold", "a hold is meant to be lifted again, and revocation here is permanent",
            "removefromcrl", "it only lifts a certificate hold, in delta CRLs",
            "cacompromise", "it reports a compromised CA key, not a device's",
            "aacompromise", "it reports a compromised attribute authority, not a device");

    private final int code;
    private final String rfcName;

    RevocationReason(int code, String rfcName) {
        this.code = code;
        this.rfcName = rfcName;
    }

    /** The CRLReason code, as in a CRL entry's reasonCode extension. */
    public int code() {
        return code;
    }

    /** The RFC 5280 name, e.g. {@code keyCompromise}; the fleet API speaks these. */
    public String rfcName() {
        return rfcName;
    }

    /** Every accepted RFC 5280 name, in code order. */
    public static List<String> names() {
        return Arrays.stream(values()).map(RevocationReason::rfcName).toList();
    }

    /**
     * The reason an API caller named: the RFC 5280 name in any letter case ({@code keyCompromise},
     * {@code KEYCOMPROMISE}), or the constant's name ({@code KEY_COMPROMISE}).
     *
     * @throws FleetException (INVALID) naming the accepted reasons
     */
    public static RevocationReason parse(String name) {
        if (name == null || name.isBlank()) {
            throw new FleetException(FleetException.Kind.INVALID, "a revocation reason is required; accepted reasons: "
                    + names());
        }
        String key = key(name);
        for (RevocationReason r : values()) {
            if (key(r.rfcName).equals(key)) {
                return r;
            }
        }
        String shown = name.length() > 40 ? name.substring(0, 40) + "..." : name;
        String why = REFUSED.get(key);
        throw new FleetException(FleetException.Kind.INVALID, "revocation reason '" + shown + "' "
                + (why != null ? "is not accepted: " + why : "is not an RFC 5280 reason") + "; accepted reasons: "
                + names());
    }

    /** The reason of a stored code. */
    public static RevocationReason ofCode(int code) {
        for (RevocationReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("no accepted revocation reason has code " + code);
    }

    private static String key(String name) {
        return name.trim().replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }
}
