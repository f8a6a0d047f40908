package io.fleetkey.agent;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** The key types a device may have, made with the JDK's own providers, as a device would. */
enum DeviceKeyType {
    P256, P384, ED25519, RSA2048;

    KeyPair generate() {
        try {
            return switch (this) {
                case P256 -> ec("secp256r1");
                case P384 -> ec("secp384r1");
                case ED25519 -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                case RSA2048 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048);
                    yield g.generateKeyPair();
                }
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ec(String curve) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }
}
