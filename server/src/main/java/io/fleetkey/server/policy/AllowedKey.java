package io.fleetkey.server.policy;

/** Key types a profile may allow. RSA's minimum size is set by {@link KeyPolicy}. */
public enum AllowedKey {
    EC_P256,
    EC_P384,
    ED25519,
    RSA
}
