package io.fleetkey.server.authority;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A {@link CaSigner} whose key is held in memory, loaded from the encrypted CA keystore. */
public final class SoftwareCaSigner implements CaSigner {
    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final String signatureAlgorithm;
    private final CryptoProvider provider;

    public SoftwareCaSigner(PrivateKey key, List<X509Certificate> chain, CryptoProvider provider) {
        this.key = forProvider(key, provider);
        this.chain = List.copyOf(chain);
        this.signatureAlgorithm = SignatureAlgorithms.forKey(chain.get(0).getPublicKey());
        this.provider = provider;
    }

    /**
     * The key as the signing provider's own class: a key read from PKCS#12 is the JDK's, and
     * Bouncy Castle would convert it (rebuilding its tables) on every signature otherwise.
     */
    private static PrivateKey forProvider(PrivateKey key, CryptoProvider provider) {
        if (provider.name() == null) {
            return key;
        }
        try {
            return java.security.KeyFactory.getInstance(key.getAlgorithm(), provider.name())
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            return key; // the provider signs with the key as it is, only more slowly
        }
    }

    @Override
    public X509Certificate certificate() {
        return chain.get(0);
    }

    @Override
    public List<X509Certificate> chain() {
        return chain;
    }

    @Override
    public ContentSigner newContentSigner() {
        try {
            JcaContentSignerBuilder builder = new JcaContentSignerBuilder(signatureAlgorithm);
            if (provider.name() != null) {
                builder.setProvider(provider.name());
            }
            return builder.build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot create a signer for the issuing CA key", e);
        }
    }
}
