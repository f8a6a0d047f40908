package io.fleetkey.agent;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Locale;

/**
 * The kinds of key a device can make for itself: EC P-256 (the default, what the server's CSR
 * attributes ask for), EC P-384, Ed25519, and RSA of 2048 or 3072 bits. The server's profile
 * decides which it accepts.
 */
public enum DeviceKeyType {
    P256("p256"), P384("p384"), ED25519("ed25519"), RSA2048("rsa2048"), RSA3072("rsa3072");

    private final String setting;

    DeviceKeyType(String setting) {
        this.setting = setting;
    }

    /** The name in settings ({@code key-type}). */
    public String setting() {
        return setting;
    }

    /** @throws IllegalArgumentException naming the kinds there are */
    public static DeviceKeyType of(String text) {
        for (DeviceKeyType type : values()) {
            if (type.setting.equals(text.strip().toLowerCase(Locale.ROOT))) {
                return type;
            }
        }
        throw new IllegalArgumentException("key type '" + text + "' is not one of "
                + Arrays.stream(values()).map(DeviceKeyType::setting).toList());
    }

    /** A new key pair of this kind, from the JDK's own providers. */
    public KeyPair generate() {
        return generate(null, new SecureRandom());
    }

    KeyPair generate(Provider provider, SecureRandom random) {
        try {
            KeyPairGenerator generator;
            switch (this) {
                case P256, P384 -> {
                    generator = provider == null ? KeyPairGenerator.getInstance("EC")
                            : KeyPairGenerator.getInstance("EC", provider);
                    generator.initialize(new ECGenParameterSpec(this == P256 ? "secp256r1" : "secp384r1"), random);
                }
                case ED25519 -> generator = provider == null ? KeyPairGenerator.getInstance("Ed25519")
                        : KeyPairGenerator.getInstance("Ed25519", provider);
                default -> {
                    generator = provider == null ? KeyPairGenerator.getInstance("RSA")
                            : KeyPairGenerator.getInstance("RSA", provider);
                    generator.initialize(this == RSA2048 ? 2048 : 3072, random);
                }
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + setting + " key", e);
        }
    }
}
