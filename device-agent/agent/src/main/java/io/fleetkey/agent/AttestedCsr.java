package io.fleetkey.agent;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.CsrAttestation;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.Evidence;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.ASN1Primitive;

/**
 * A DER PKCS#10 request that carries the device's evidence, ready for any door
 * (docs/attestation.md, "The flow"): subject CN = the device id, the new public key, in the
 * {@code id-aa-attestation} attribute (draft-ietf-lamps-csr-attestation) an AttestationBundle
 * with one device statement and the signer's chain, optionally the one-time token as PKCS#9
 * {@code challengePassword} (RFC 2985 §5.4.1), and signed with the new key (proof of
 * possession, RFC 2986 §3).
 *
 * <p>The statement (an EAT as JWT, RFC 9711) says: {@code sub} the device id,
 * {@code spki_sha256} the SHA-256 of the CSR's SubjectPublicKeyInfo, {@code iat} now, the
 * nonce, and the evidence. It is signed by the factory identity on a first enrollment and by
 * the current Fleetkey key on a renewal ({@link StatementSigner}).
 *
 * <pre>
 * byte[] csr = AttestedCsr.forDevice("meter-000001", newKeys)
 *         .signedBy(factory.signer())
 *         .nonce(nonce)
 *         .evidence(evidenceSource.collect())
 *         .build();
 * </pre>
 *
 * Device keys and statement signers may be EC P-256 or P-384, Ed25519 or RSA (2048 bits or
 * more); the CSR's signature algorithm follows the key: SHA256withECDSA, SHA384withECDSA,
 * Ed25519, SHA256withRSA.
 */
public final class AttestedCsr {
    private static final java.security.Provider BC = io.fleetkey.protocol.BouncyCastle.PROVIDER;
    private static final SecureRandom RANDOM = new SecureRandom();

    private AttestedCsr() {
    }

    /** Starts a request for this device id and its new key pair. */
    public static Builder forDevice(String deviceId, KeyPair keys) {
        return new Builder(deviceId, keys);
    }

    /** Collects what goes into one request; not thread-safe, use one per request. */
    public static final class Builder {
        private final String deviceId;
        private final KeyPair keys;
        private StatementSigner signer;
        private String nonce;
        private Evidence evidence = Evidence.NONE;
        private String challengePassword;
        private Clock clock = Clock.systemUTC();

        private Builder(String deviceId, KeyPair keys) {
            if (!DeviceIds.isValid(deviceId)) {
                throw new IllegalArgumentException("invalid device id: use " + DeviceIds.rule());
            }
            this.deviceId = deviceId;
            this.keys = Objects.requireNonNull(keys, "keys");
            signatureAlgorithm(keys.getPublic());
        }

        /** Who signs the statement: the factory identity (first enrollment) or the current identity (renewal). Required. */
        public Builder signedBy(StatementSigner signer) {
            this.signer = Objects.requireNonNull(signer, "signer");
            return this;
        }

        /** The nonce from the door's nonce operation ({@code eat_nonce}); null for none, where the group allows it. */
        public Builder nonce(String nonce) {
            this.nonce = nonce;
            return this;
        }

        /** What the device reports about itself; {@link Evidence#NONE} (the default) reports only identity. */
        public Builder evidence(Evidence evidence) {
            this.evidence = evidence == null ? Evidence.NONE : evidence;
            return this;
        }

        /** The one-time enrollment token, carried as {@code challengePassword}; null (the default) for none. */
        public Builder challengePassword(String token) {
            if (token != null && token.isEmpty()) {
                throw new IllegalArgumentException("the enrollment token is empty");
            }
            this.challengePassword = token;
            return this;
        }

        /** The clock of the statement's {@code iat}; the system clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The DER PKCS#10 request. */
        public byte[] build() {
            if (signer == null) {
                throw new IllegalStateException("the statement needs a signer: the factory identity or the current identity");
            }
            List<Attribute> attributes = new java.util.ArrayList<>();
            attributes.add(attribute(deviceId, keys.getPublic(), signer, nonce, evidence, clock));
            if (challengePassword != null) {
                attributes.add(KeyFiles.challengePassword(challengePassword));
            }
            return KeyFiles.certificationRequest(keys, deviceId, attributes);
        }
    }

    /**
     * The {@code id-aa-attestation} attribute alone: one device statement about {@code newKey}
     * (device id, the key's SHA-256, now, the nonce, the evidence) signed by the signer, with the
     * signer's chain, for a CSR built elsewhere (the agent's enroller builds every CSR in one place).
     */
    public static Attribute attribute(String deviceId, PublicKey newKey, StatementSigner signer, String nonce,
                                      Evidence evidence, Clock clock) {
        DeviceStatement.Claims claims = new DeviceStatement.Claims(deviceId, DeviceStatement.keyBinding(newKey), Instant.now(clock),
                nonce, evidence);
        String statement = DeviceStatement.sign(claims, signer.privateKey());
        AttestationBundle bundle = new AttestationBundle(List.of(AttestationBundle.Statement.eatJwt(statement)),
                signer.chain());
        try {
            return new Attribute(new ASN1ObjectIdentifier(CsrAttestation.ID_AA_ATTESTATION),
                    new org.bouncycastle.asn1.DERSet(ASN1Primitive.fromByteArray(bundle.encoded())));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode the attestation bundle: " + e.getMessage(), e);
        }
    }

    /**
     * The signature algorithm for a key: SHA256withECDSA on P-256, SHA384withECDSA on P-384,
     * SHA512withECDSA on P-521, Ed25519, SHA256withRSA.
     *
     * @throws IllegalArgumentException for any other key, naming the ones that work
     */
    public static String signatureAlgorithm(java.security.Key key) {
        return KeyFiles.signatureAlgorithm(key);
    }

    /** True when the private key signs what the public key verifies: the two belong together. */
    static boolean isPair(PrivateKey privateKey, PublicKey publicKey) {
        try {
            byte[] probe = new byte[32];
            RANDOM.nextBytes(probe);
            String algorithm = signatureAlgorithm(publicKey);
            Signature signing = Signature.getInstance(algorithm, BC);
            signing.initSign(privateKey);
            signing.update(probe);
            Signature verifying = Signature.getInstance(algorithm, BC);
            verifying.initVerify(publicKey);
            verifying.update(probe);
            return verifying.verify(signing.sign());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
