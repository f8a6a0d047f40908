package io.fleetkey.server.authority;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

/** Picks the signature algorithm that matches a CA key's strength. */
final class SignatureAlgorithms {
    private SignatureAlgorithms() {
    }

    static String forKey(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getOrder().bitLength();
            return bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        if (key instanceof RSAPublicKey) {
            return "SHA256withRSA";
        }
        if ("Ed25519".equals(key.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm())) {
            return "Ed25519";
        }
        throw new IllegalArgumentException("unsupported CA key algorithm " + key.getAlgorithm());
    }
}
