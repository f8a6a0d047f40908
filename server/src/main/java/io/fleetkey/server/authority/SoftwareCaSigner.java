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
        this.key = key;
        this.chain = List.copyOf(chain);
        this.signatureAlgorithm = SignatureAlgorithms.forKey(chain.get(0).getPublicKey());
        this.provider = provider;
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
