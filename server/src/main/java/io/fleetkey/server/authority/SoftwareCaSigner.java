package io.fleetkey.server.authority;

import java.io.IOException;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.RuntimeOperatorException;

/** A {@link CaSigner} whose key is held in memory, loaded from the encrypted CA keystore. */
public final class SoftwareCaSigner implements CaSigner {
    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final String signatureAlgorithm;
    private final CryptoProvider provider;
    private final AlgorithmIdentifier algorithmId;
    private final ThreadLocal<Signature> signatures = ThreadLocal.withInitial(this::newSignature);
    private final ThreadLocal<SecureRandom> randoms = ThreadLocal.withInitial(SoftwareCaSigner::newRandom);

    public SoftwareCaSigner(PrivateKey key, List<X509Certificate> chain, CryptoProvider provider) {
        this.key = forProvider(key, provider);
        this.chain = List.copyOf(chain);
        this.signatureAlgorithm = SignatureAlgorithms.forKey(chain.get(0).getPublicKey());
        this.provider = provider;
        this.algorithmId = new DefaultSignatureAlgorithmIdentifierFinder().find(signatureAlgorithm);
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

    /**
     * A signer over this thread's own {@link Signature} and random source, initialised afresh for
     * each call, so nothing from an earlier, abandoned use can leak into the signature. Looking the
     * algorithm up in the provider list and seeding a new {@code SecureRandom} for every signature
     * cost about 5% of an OCSP response.
     */
    @Override
    public ContentSigner newContentSigner() {
        Signature signature = signatures.get();
        try {
            signature.initSign(key, randoms.get());
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("cannot sign with the issuing CA key: " + e.getMessage(), e);
        }
        return new JcaSignatureSigner(algorithmId, signature);
    }

    /** A DRBG of this thread's own: the default NativePRNG serialises every thread on one lock. */
    private static SecureRandom newRandom() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    }

    private Signature newSignature() {
        try {
            return provider.name() != null ? Signature.getInstance(signatureAlgorithm, provider.name())
                    : Signature.getInstance(signatureAlgorithm);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no " + signatureAlgorithm + " signature in " + provider, e);
        }
    }

    /** Bouncy Castle's ContentSigner contract over one initialised JCA {@link Signature}. */
    private record JcaSignatureSigner(AlgorithmIdentifier algorithm, Signature signature) implements ContentSigner {
        @Override
        public AlgorithmIdentifier getAlgorithmIdentifier() {
            return algorithm;
        }

        @Override
        public OutputStream getOutputStream() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[]{(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    try {
                        signature.update(bytes, offset, length);
                    } catch (SignatureException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                }
            };
        }

        @Override
        public byte[] getSignature() {
            try {
                return signature.sign();
            } catch (SignatureException e) {
                throw new RuntimeOperatorException("cannot sign: " + e.getMessage(), e);
            }
        }
    }
}
