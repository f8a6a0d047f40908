package io.fleetkey.protocol;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Set;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.impl.BaseJWSProvider;
import com.nimbusds.jose.util.Base64URL;

/**
 * Ed25519 signatures (RFC 8032) for device statements, through the JCA. Nimbus's own Ed25519
 * classes need Google Tink and its key objects; devices hold their keys as ordinary JCA keys
 * (a PKCS#12 IDevID, a PKCS#8 file), so this signs and verifies those directly. Nimbus still
 * builds, parses and serialises the JWS; only the signature primitive is here. Signs as
 * {@code Ed25519} (RFC 9864); verifies {@code Ed25519} and the older {@code EdDSA} (RFC 8037).
 */
final class Ed25519Jws extends BaseJWSProvider implements JWSSigner, JWSVerifier {
    /** Bouncy Castle takes Ed25519 keys from any provider. */
    private static final Provider BC = BouncyCastle.PROVIDER;

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private Ed25519Jws(PrivateKey privateKey, PublicKey publicKey) {
        super(Set.of(JWSAlgorithm.Ed25519, JWSAlgorithm.EdDSA));
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    static Ed25519Jws signer(PrivateKey key) {
        return new Ed25519Jws(key, null);
    }

    static Ed25519Jws verifier(PublicKey key) {
        return new Ed25519Jws(null, key);
    }

    /** Whether the key is an Ed25519 key, whichever provider made it. */
    static boolean isEd25519(Key key) {
        return key != null && ("Ed25519".equalsIgnoreCase(key.getAlgorithm()) || "EdDSA".equalsIgnoreCase(key.getAlgorithm()));
    }

    @Override
    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
        try {
            Signature signature = Signature.getInstance("Ed25519", provider());
            signature.initSign(privateKey);
            signature.update(signingInput);
            return Base64URL.encode(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new JOSEException("cannot sign with Ed25519: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
        if (!supportedJWSAlgorithms().contains(header.getAlgorithm())) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance("Ed25519", provider());
            verifier.initVerify(publicKey);
            verifier.update(signingInput);
            return verifier.verify(signature.decode());
        } catch (GeneralSecurityException e) {
            throw new JOSEException("cannot verify an Ed25519 signature: " + e.getMessage(), e);
        }
    }

    private Provider provider() {
        Provider chosen = getJCAContext().getProvider();
        return chosen != null && chosen.getService("Signature", "Ed25519") != null ? chosen : BC;
    }
}
