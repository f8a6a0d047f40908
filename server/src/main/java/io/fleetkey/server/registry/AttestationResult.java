package io.fleetkey.server.registry;

/**
 * What the verifier concluded about a device's evidence, in the words of the RATS attestation
 * results (AR4SI): {@code AFFIRMING} all claims match the group's reference values,
 * {@code WARNING} something is missing or outdated and the group's policy decides,
 * {@code CONTRAINDICATED} a claim is known bad (an unknown firmware digest, debug on, a model
 * the group does not have). {@code UNVERIFIED} is evidence that could not even be checked
 * (bad signature, untrusted signer, stale nonce): it says nothing about the device, so it is
 * kept in the history but never becomes the device's current result.
 */
public enum AttestationResult {
    AFFIRMING, WARNING, CONTRAINDICATED, UNVERIFIED;

    /** Lower case, as the fleet API shows it. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
