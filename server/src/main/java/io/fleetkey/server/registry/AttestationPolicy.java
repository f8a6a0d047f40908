package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

/**
 * A group's attestation policy and reference values.
 *
 * @param mode              whether devices must, may or need not show evidence
 * @param onWarning         what happens to a device whose evidence earns a warning
 * @param requireNonce      evidence must carry a fresh nonce from the nonce operation (replay protection)
 * @param restrictedProfile the profile issued when {@code onWarning} is {@code RESTRICT}
 * @param allowedModels     hardware models of the group ({@code hwmodel}); empty means any
 * @param minimumVersion    the lowest software version accepted ({@code swversion}); null means any
 * @param debugAllowed      whether a device may report open debug interfaces ({@code dbgstat} enabled)
 * @param allowedDigests    the SHA-256 digests per measured component, allowed or withdrawn
 */
public record AttestationPolicy(Mode mode, OnWarning onWarning, boolean requireNonce, String restrictedProfile,
                                List<String> allowedModels, String minimumVersion, boolean debugAllowed,
                                List<AllowedDigest> allowedDigests) {
    /** What a new group starts with: attestation off, and strict settings ready for when it is turned on. */
    public static final AttestationPolicy DEFAULT = new AttestationPolicy(Mode.OFF, OnWarning.REFUSE, true,
            "restricted", List.of(), null, false, List.of());

    public AttestationPolicy {
        allowedModels = List.copyOf(allowedModels);
        allowedDigests = List.copyOf(allowedDigests);
    }

    public enum Mode {
        /** Evidence is not appraised; a device statement still authenticates a request. */
        OFF,
        /** Evidence is appraised when a device sends it; a device without evidence is issued as before. */
        OPTIONAL,
        /** Every enrollment and renewal must carry evidence. */
        REQUIRED
    }

    public enum OnWarning {
        /** Refuse the request. */
        REFUSE,
        /** Hold it until a fleet manager approves the device's key. */
        HOLD,
        /** Issue a certificate of the restricted (short-lived) profile. */
        RESTRICT
    }

    /**
     * One reference digest of a named component, with when and why it was added; once withdrawn
     * it no longer passes, but its component stays checked.
     */
    public record AllowedDigest(String component, String sha256, Instant addedAt, String note, Instant withdrawnAt) {
        public AllowedDigest(String component, String sha256, Instant addedAt, String note) {
            this(component, sha256, addedAt, note, null);
        }

        public boolean allowed() {
            return withdrawnAt == null;
        }
    }

    public AttestationPolicy withDigests(List<AllowedDigest> digests) {
        return new AttestationPolicy(mode, onWarning, requireNonce, restrictedProfile, allowedModels, minimumVersion,
                debugAllowed, digests);
    }
}
