package io.fleetkey.protocol;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/**
 * A device's signed statement: an Entity Attestation Token (RFC 9711) as a JWT, signed by a key
 * the device proves it holds (its factory IDevID key for a first enrollment, its current
 * Fleetkey key for a renewal) and carried in the CSR's AttestationBundle with that key's
 * certificate chain. It is how a request proves who sent it where the server cannot see the
 * device's TLS session (through an external MQTT broker).
 *
 * <p>Claims: {@code sub} the device id, {@code iat}, {@value #KEY_BINDING} the SHA-256 of the
 * CSR's SubjectPublicKeyInfo (lower-case hex), so the statement is worth nothing for any other
 * key, and optionally {@code eat_nonce}. Header {@code typ} is {@value #TYPE}. Signed with
 * ES256/ES384/ES512 (EC keys) or RS256 (RSA keys).
 */
public final class DeviceStatement {
    /** The JWS {@code typ} of an EAT in JWT form (RFC 9711, media type application/eat+jwt). */
    public static final String TYPE = "eat+jwt";
    /** The claim that binds the statement to the CSR's key. */
    public static final String KEY_BINDING = "spki_sha256";
    public static final String NONCE = "eat_nonce";

    private DeviceStatement() {
    }

    /** What a statement says. {@code nonce} may be null. */
    public record Claims(String deviceId, String csrKeySha256, Instant issuedAt, String nonce) {
    }

    /** Signs the claims with the device's key (EC or RSA); the algorithm follows the key. */
    public static String sign(Claims claims, PrivateKey key) {
        try {
            JWSSigner signer;
            JWSAlgorithm algorithm;
            if (key instanceof ECPrivateKey ec) {
                signer = new ECDSASigner(ec);
                algorithm = ecAlgorithm(Curve.forECParameterSpec(ec.getParams()));
            } else if (key instanceof RSAPrivateKey) {
                signer = new RSASSASigner(key);
                algorithm = JWSAlgorithm.RS256;
            } else {
                throw new IllegalArgumentException("device statements are signed with EC or RSA keys, not "
                        + key.getAlgorithm());
            }
            JWTClaimsSet.Builder set = new JWTClaimsSet.Builder().subject(claims.deviceId())
                    .issueTime(Date.from(claims.issuedAt())).claim(KEY_BINDING, claims.csrKeySha256());
            if (claims.nonce() != null) {
                set.claim(NONCE, claims.nonce());
            }
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).type(new JOSEObjectType(TYPE)).build(),
                    set.build());
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign the device statement: " + e.getMessage(), e);
        }
    }

    /**
     * Checks the statement's signature with the signer's public key and reads its claims.
     *
     * @throws InvalidStatement saying what is wrong, in words a device log can show
     */
    public static Claims verify(String compactJwt, PublicKey signerKey) throws InvalidStatement {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(compactJwt);
        } catch (ParseException e) {
            throw new InvalidStatement("the device statement is not a JWT: " + e.getMessage());
        }
        if (!new JOSEObjectType(TYPE).equals(jwt.getHeader().getType())) {
            throw new InvalidStatement("the device statement's typ must be '" + TYPE + "'");
        }
        try {
            JWSVerifier verifier;
            if (signerKey instanceof ECPublicKey ec) {
                verifier = new ECDSAVerifier(ec);
            } else if (signerKey instanceof RSAPublicKey rsa) {
                verifier = new RSASSAVerifier(rsa);
            } else {
                throw new InvalidStatement("the statement's signer has a " + signerKey.getAlgorithm()
                        + " key; statements are signed with EC or RSA keys");
            }
            if (!verifier.supportedJWSAlgorithms().contains(jwt.getHeader().getAlgorithm())) {
                throw new InvalidStatement("the statement is signed with " + jwt.getHeader().getAlgorithm()
                        + ", which does not fit the signer's key");
            }
            if (!jwt.verify(verifier)) {
                throw new InvalidStatement("the statement's signature does not verify with the signer's certificate");
            }
            JWTClaimsSet set = jwt.getJWTClaimsSet();
            String deviceId = set.getSubject();
            Object binding = set.getClaim(KEY_BINDING);
            Date issued = set.getIssueTime();
            Object nonce = set.getClaim(NONCE);
            if (deviceId == null || !(binding instanceof String) || issued == null) {
                throw new InvalidStatement("the statement lacks one of the claims sub, iat and " + KEY_BINDING);
            }
            if (nonce != null && !(nonce instanceof String)) {
                throw new InvalidStatement("the statement's " + NONCE + " must be a string");
            }
            return new Claims(deviceId, (String) binding, issued.toInstant(), (String) nonce);
        } catch (JOSEException | ParseException e) {
            throw new InvalidStatement("the device statement cannot be checked: " + e.getMessage());
        }
    }

    private static JWSAlgorithm ecAlgorithm(Curve curve) {
        Map<Curve, JWSAlgorithm> byCurve = Map.of(Curve.P_256, JWSAlgorithm.ES256, Curve.P_384, JWSAlgorithm.ES384,
                Curve.P_521, JWSAlgorithm.ES512);
        JWSAlgorithm algorithm = curve == null ? null : byCurve.get(curve);
        if (algorithm == null) {
            throw new IllegalArgumentException("device statements are signed with P-256, P-384 or P-521 keys");
        }
        return algorithm;
    }

    /** A statement that is not acceptable; the message says why. */
    public static final class InvalidStatement extends Exception {
        public InvalidStatement(String reason) {
            super(reason);
        }
    }
}
