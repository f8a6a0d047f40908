package io.fleetkey.protocol;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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
import com.nimbusds.jose.util.JSONObjectUtils;
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
 * key, optionally {@code eat_nonce}, and the device's {@link Evidence} in the RFC 9711 JSON
 * forms: {@code hwmodel} (base64url of the model name's UTF-8 bytes, at most 32), {@code swname},
 * {@code swversion} ({@code [version]} or {@code [version, scheme]}), {@code dbgstat} (by name),
 * and {@code measurements}: pairs {@code [296, "<measured component as JSON text>"]}, CoAP
 * Content-Format 296 being application/measured-component+json (RFC 10013), each component
 * {@code {"id": [name] or [name, [version]], "digested-measurement": [1, base64url SHA-256]}}.
 * {@code eat_profile} names this profile by the statement type's OID. Header {@code typ} is
 * {@value #TYPE}. Signed with ES256/ES384/ES512 (EC keys), RS256 (RSA keys) or Ed25519
 * (RFC 9864; {@code EdDSA} of RFC 8037 is accepted too).
 */
public final class DeviceStatement {
    /** The JWS {@code typ} of an EAT in JWT form (RFC 9711, media type application/eat+jwt). */
    public static final String TYPE = "eat+jwt";
    /** The claim that binds the statement to the CSR's key. */
    public static final String KEY_BINDING = "spki_sha256";
    public static final String NONCE = "eat_nonce";
    /** The EAT profile (RFC 9711 §4.3.2) these statements follow: the statement type's OID. */
    public static final String PROFILE = CsrAttestation.FLEETKEY_EAT_JWT;
    /** CoAP Content-Format of application/measured-component+json (RFC 10013). */
    public static final int MEASURED_COMPONENT_JSON = 296;
    /** Named Information hash algorithm registry: sha-256. */
    private static final int SHA_256 = 1;
    /** More components than this make a statement too big for a CSR on a constrained link. */
    public static final int MAX_MEASUREMENTS = 16;
    private static final int MAX_TEXT = 64;

    private DeviceStatement() {
    }

    /** What a statement says. {@code nonce} may be null; {@code evidence} is {@link Evidence#NONE} when it reports nothing. */
    public record Claims(String deviceId, String csrKeySha256, Instant issuedAt, String nonce, Evidence evidence) {
        public Claims {
            evidence = evidence == null ? Evidence.NONE : evidence;
        }

        /** A statement that only proves identity (and freshness, with a nonce). */
        public Claims(String deviceId, String csrKeySha256, Instant issuedAt, String nonce) {
            this(deviceId, csrKeySha256, issuedAt, nonce, Evidence.NONE);
        }
    }

    /**
     * The {@value #KEY_BINDING} claim for a CSR key: the SHA-256 of its DER SubjectPublicKeyInfo,
     * lower-case hex, as the server computes it from the CSR.
     */
    public static String keyBinding(PublicKey key) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
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
            } else if (Ed25519Jws.isEd25519(key)) {
                signer = Ed25519Jws.signer(key);
                algorithm = JWSAlgorithm.Ed25519;
            } else {
                throw new IllegalArgumentException("device statements are signed with EC, RSA or Ed25519 keys, not "
                        + key.getAlgorithm());
            }
            JWTClaimsSet.Builder set = new JWTClaimsSet.Builder().subject(claims.deviceId())
                    .issueTime(Date.from(claims.issuedAt())).claim(KEY_BINDING, claims.csrKeySha256());
            if (claims.nonce() != null) {
                set.claim(NONCE, claims.nonce());
            }
            writeEvidence(set, claims.evidence());
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
        return verify(compactJwt, signerKey, null);
    }

    /**
     * As {@link #verify(String, PublicKey)}, checking the signature with this JCA provider (null:
     * the JVM's default).
     */
    public static Claims verify(String compactJwt, PublicKey signerKey, java.security.Provider provider)
            throws InvalidStatement {
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
            } else if (Ed25519Jws.isEd25519(signerKey)) {
                verifier = Ed25519Jws.verifier(signerKey);
            } else {
                throw new InvalidStatement("the statement's signer has a " + signerKey.getAlgorithm()
                        + " key; statements are signed with EC, RSA or Ed25519 keys");
            }
            if (provider != null) {
                verifier.getJCAContext().setProvider(provider);
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
            Object profile = set.getClaim("eat_profile");
            if (profile != null && !PROFILE.equals(profile)) {
                throw new InvalidStatement("the statement follows EAT profile '" + profile + "'; this server reads "
                        + "profile " + PROFILE);
            }
            return new Claims(deviceId, (String) binding, issued.toInstant(), (String) nonce, readEvidence(set));
        } catch (JOSEException | ParseException e) {
            throw new InvalidStatement("the device statement cannot be checked: " + e.getMessage());
        }
    }

    private static void writeEvidence(JWTClaimsSet.Builder set, Evidence evidence) {
        set.claim("eat_profile", PROFILE);
        if (evidence.hwModel() != null) {
            byte[] model = evidence.hwModel().getBytes(StandardCharsets.UTF_8);
            if (model.length == 0 || model.length > 32) {
                throw new IllegalArgumentException("hwmodel must be 1 to 32 bytes of UTF-8");
            }
            set.claim("hwmodel", Base64.getUrlEncoder().withoutPadding().encodeToString(model));
        }
        if (evidence.swName() != null) {
            set.claim("swname", evidence.swName());
        }
        if (evidence.swVersion() != null) {
            set.claim("swversion", List.of(evidence.swVersion()));
        }
        if (evidence.debug() != null) {
            set.claim("dbgstat", evidence.debug().claimValue());
        }
        if (!evidence.measurements().isEmpty()) {
            List<Object> pairs = new ArrayList<>();
            for (Evidence.Measurement m : evidence.measurements()) {
                Map<String, Object> component = new LinkedHashMap<>();
                component.put("id", m.version() == null ? List.of(m.component())
                        : List.of(m.component(), List.of(m.version())));
                component.put("digested-measurement", List.of(SHA_256,
                        Base64.getUrlEncoder().withoutPadding().encodeToString(HexFormat.of().parseHex(m.sha256()))));
                pairs.add(List.of(MEASURED_COMPONENT_JSON, JSONObjectUtils.toJSONString(component)));
            }
            set.claim("measurements", pairs);
        }
    }

    private static Evidence readEvidence(JWTClaimsSet set) throws InvalidStatement {
        try {
            String model = null;
            Object hwmodel = set.getClaim("hwmodel");
            if (hwmodel != null) {
                byte[] bytes = base64url(hwmodel, "hwmodel");
                if (bytes.length == 0 || bytes.length > 32) {
                    throw new InvalidStatement("hwmodel must be 1 to 32 bytes");
                }
                model = printable(new String(bytes, StandardCharsets.UTF_8), "hwmodel");
            }
            String swName = set.getClaim("swname") == null ? null : printable(text(set.getClaim("swname"), "swname"),
                    "swname");
            String swVersion = null;
            Object version = set.getClaim("swversion");
            if (version != null) {
                if (!(version instanceof List<?> parts) || parts.isEmpty() || parts.size() > 2) {
                    throw new InvalidStatement("swversion must be [version] or [version, scheme]");
                }
                swVersion = printable(text(parts.get(0), "swversion"), "swversion");
            }
            Evidence.DebugStatus debug = set.getClaim("dbgstat") == null ? null
                    : Evidence.DebugStatus.fromClaim(set.getClaim("dbgstat"));
            List<Evidence.Measurement> measurements = new ArrayList<>();
            Object claim = set.getClaim("measurements");
            if (claim != null) {
                if (!(claim instanceof List<?> pairs) || pairs.size() > MAX_MEASUREMENTS) {
                    throw new InvalidStatement("measurements must be a list of at most " + MAX_MEASUREMENTS
                            + " [content-format, content] pairs");
                }
                for (Object pair : pairs) {
                    measurements.add(measurement(pair));
                }
            }
            return new Evidence(model, swName, swVersion, debug, measurements);
        } catch (IllegalArgumentException | ParseException e) {
            throw new InvalidStatement("the statement's claims are malformed: " + e.getMessage());
        }
    }

    private static Evidence.Measurement measurement(Object pair) throws InvalidStatement, ParseException {
        if (!(pair instanceof List<?> p) || p.size() != 2 || !(p.get(0) instanceof Number format)
                || format.intValue() != MEASURED_COMPONENT_JSON || !(p.get(1) instanceof String json)) {
            throw new InvalidStatement("each measurement must be [" + MEASURED_COMPONENT_JSON
                    + ", \"<measured component JSON>\"] (application/measured-component+json, RFC 10013)");
        }
        Map<String, Object> component = JSONObjectUtils.parse(json);
        for (String member : component.keySet()) {
            if (!member.equals("id") && !member.equals("digested-measurement")) {
                // RFC 10013: members a verifier does not understand (authorities, flags) must not be ignored.
                throw new InvalidStatement("measured component member '" + member + "' is not supported");
            }
        }
        if (!(component.get("id") instanceof List<?> id) || id.isEmpty() || id.size() > 2) {
            throw new InvalidStatement("a measured component's id must be [name] or [name, [version]]");
        }
        String name = text(id.get(0), "the component name");
        String componentVersion = null;
        if (id.size() == 2) {
            if (!(id.get(1) instanceof List<?> v) || v.isEmpty() || v.size() > 2) {
                throw new InvalidStatement("component '" + name + "': the version must be [version] or [version, scheme]");
            }
            componentVersion = printable(text(v.get(0), "the component version"), "the component version");
        }
        if (!(component.get("digested-measurement") instanceof List<?> digest) || digest.size() != 2) {
            throw new InvalidStatement("component '" + name + "' has no digested-measurement [alg, digest]");
        }
        Object alg = digest.get(0);
        boolean sha256 = (alg instanceof Number n && n.intValue() == SHA_256) || "sha-256".equals(alg);
        if (!sha256) {
            throw new InvalidStatement("component '" + name + "' is measured with " + alg + "; use SHA-256 (1)");
        }
        byte[] value = base64url(digest.get(1), "the digest of component '" + name + "'");
        if (value.length != 32) {
            throw new InvalidStatement("the digest of component '" + name + "' is " + value.length
                    + " bytes; a SHA-256 is 32");
        }
        return new Evidence.Measurement(name, HexFormat.of().formatHex(value), componentVersion);
    }

    private static String text(Object value, String what) throws InvalidStatement {
        if (!(value instanceof String s)) {
            throw new InvalidStatement(what + " must be a string");
        }
        return s;
    }

    private static String printable(String value, String what) throws InvalidStatement {
        if (value.isEmpty() || value.length() > MAX_TEXT || !value.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f)) {
            throw new InvalidStatement(what + " must be 1 to " + MAX_TEXT + " printable ASCII characters");
        }
        return value;
    }

    private static byte[] base64url(Object value, String what) throws InvalidStatement {
        try {
            return Base64.getUrlDecoder().decode(text(value, what));
        } catch (IllegalArgumentException e) {
            throw new InvalidStatement(what + " must be base64url");
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
