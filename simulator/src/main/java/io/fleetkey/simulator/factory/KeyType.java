package io.fleetkey.simulator.factory;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Key types the factory makes, by their command-line names. Keys come from the JDK's own
 * providers, so they go into a JDK PKCS#12 key store as they are.
 */
enum KeyType {
    P256("p256", "EC", "SHA256withECDSA"),
    P384("p384", "EC", "SHA384withECDSA"),
    ED25519("ed25519", "Ed25519", "Ed25519"),
    RSA2048("rsa2048", "RSA", "SHA256withRSA");

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String optionName;
    private final String algorithm;
    private final String signatureAlgorithm;

    KeyType(String optionName, String algorithm, String signatureAlgorithm) {
        this.optionName = optionName;
        this.algorithm = algorithm;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    String optionName() {
        return optionName;
    }

    /** The signature algorithm a CA with a key of this type signs with. */
    String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    static Optional<KeyType> byOptionName(String name) {
        return Arrays.stream(values()).filter(k -> k.optionName.equals(name.toLowerCase(Locale.ROOT))).findFirst();
    }

    KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            switch (this) {
                case P256 -> generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
                case P384 -> generator.initialize(new ECGenParameterSpec("secp384r1"), RANDOM);
                case RSA2048 -> generator.initialize(2048, RANDOM);
                case ED25519 -> { }
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + optionName + " key", e);
        }
    }
}
