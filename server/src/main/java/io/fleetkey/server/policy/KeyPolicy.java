package io.fleetkey.server.policy;

import java.io.IOException;
import java.math.BigInteger;
import java.util.Optional;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTNamedCurves;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECNamedCurves;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which public keys Fleetkey certifies: EC P-256 and P-384, Ed25519, RSA of at least
 * {@code minRsaBits} bits, further narrowed by a profile. Anything else is refused with a
 * reason that names the key.
 */
public final class KeyPolicy {
    /** Below this no configuration may go: 2048 is NIST SP 800-131A's floor for RSA. */
    public static final int RSA_FLOOR_BITS = 2048;

    private final int minRsaBits;

    public KeyPolicy(int minRsaBits) {
        if (minRsaBits < RSA_FLOOR_BITS) {
            throw new IllegalArgumentException("fleetkey.key-policy.min-rsa-bits is " + minRsaBits
                    + "; set it to " + RSA_FLOOR_BITS + " or more");
        }
        this.minRsaBits = minRsaBits;
    }

    /** The key as a person would name it, e.g. "EC P-256", "RSA 1024-bit", "EC secp192r1". */
    public record KeyDescription(Optional<AllowedKey> type, String name, int rsaBits) {
    }

    public KeyDescription describe(SubjectPublicKeyInfo key) {
        ASN1ObjectIdentifier algorithm = key.getAlgorithm().getAlgorithm();
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
            if (!(key.getAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve)) {
                return new KeyDescription(Optional.empty(), "EC key with explicit curve parameters", 0);
            }
            if (SECObjectIdentifiers.secp256r1.equals(curve)) {
                return new KeyDescription(Optional.of(AllowedKey.EC_P256), "EC P-256", 0);
            }
            if (SECObjectIdentifiers.secp384r1.equals(curve)) {
                return new KeyDescription(Optional.of(AllowedKey.EC_P384), "EC P-384", 0);
            }
            return new KeyDescription(Optional.empty(), "EC " + curveName(curve), 0);
        }
        if (EdECObjectIdentifiers.id_Ed25519.equals(algorithm)) {
            return new KeyDescription(Optional.of(AllowedKey.ED25519), "Ed25519", 0);
        }
        if (EdECObjectIdentifiers.id_Ed448.equals(algorithm)) {
            return new KeyDescription(Optional.empty(), "Ed448", 0);
        }
        if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
            int bits = rsaBits(key);
            return new KeyDescription(Optional.of(AllowedKey.RSA), "RSA " + bits + "-bit", bits);
        }
        return new KeyDescription(Optional.empty(), "key of algorithm " + algorithm.getId(), 0);
    }

    /**
     * Checks a key against the policy and a profile.
     *
     * @return empty if allowed, else the reason it is refused
     */
    public Optional<String> check(SubjectPublicKeyInfo key, CertificateProfile profile) {
        KeyDescription d;
        try {
            d = describe(key);
        } catch (IllegalArgumentException e) {
            return Optional.of("the CSR's public key cannot be read");
        }
        Optional<String> type = checkType(d);
        if (type.isPresent()) {
            return type;
        }
        if (d.type().get() == AllowedKey.RSA && d.rsaBits() < minRsaBits) {
            return Optional.of(d.name() + " key is too weak; RSA keys need " + minRsaBits + " bits or more");
        }
        if (!profile.allowedKeys().contains(d.type().get())) {
            return Optional.of(d.name() + " is not allowed by profile '" + profile.name() + "', which allows "
                    + profile.allowedKeys());
        }
        return Optional.empty();
    }

    /**
     * The part of the policy that needs no profile: is this a key type Fleetkey certifies at all?
     *
     * @return empty if the type is one of the allowed ones, else the reason, naming the key
     */
    public Optional<String> checkType(KeyDescription key) {
        if (key.type().isEmpty()) {
            return Optional.of(key.name() + " is not allowed; use EC P-256, EC P-384, Ed25519 or RSA of "
                    + minRsaBits + " bits or more");
        }
        return Optional.empty();
    }

    private static int rsaBits(SubjectPublicKeyInfo key) {
        try {
            BigInteger modulus = RSAPublicKey.getInstance(key.parsePublicKey()).getModulus();
            return modulus.bitLength();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("malformed RSA public key", e);
        }
    }

    private static String curveName(ASN1ObjectIdentifier curve) {
        // SEC names first (secp192r1 rather than X9.62's prime192v1): they are what OpenSSL users type.
        String name = SECNamedCurves.getName(curve);
        if (name == null) {
            name = ECNamedCurveTable.getName(curve);
        }
        String nist = NISTNamedCurves.getName(curve);
        if (name != null && nist != null && !nist.equals(name)) {
            name = name + " (" + nist + ")";
        }
        return name != null ? name : "curve " + curve.getId();
    }
}
