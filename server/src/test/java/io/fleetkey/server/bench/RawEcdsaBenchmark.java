package io.fleetkey.server.bench;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.concurrent.TimeUnit;

import io.fleetkey.server.authority.CryptoProvider;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JVM's raw ECDSA P-256 rate, the yardstick for {@link IssuanceBenchmark}: the two
 * signature operations one issuance cannot avoid, without any X.509, policy or database work.
 *
 * <ul>
 * <li>{@code sign}: SHA256withECDSA over a CSR-sized message with one fixed key, as the CA signs.</li>
 * <li>{@code verifyFreshKey}: decode a public key never seen before from its SubjectPublicKeyInfo
 * and verify a CSR's signature with it, as the proof-of-possession check must (no per-key
 * precomputation can be reused).</li>
 * <li>{@code signAndVerify}: both, one issuance's worth of public-key crypto.</li>
 * </ul>
 * The messages, keys and signatures are real CSRs made in set-up; the pool is cycled.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class RawEcdsaBenchmark {
    private static final String ALGORITHM = "SHA256withECDSA";
    private static final int POOL = 4096; // a power of two: the index wraps with a mask

    /** {@code BC} asks for Bouncy Castle's provider by name; {@code JDK} takes the JDK's default (SunEC). */
    @Param({"BC", "JDK"})
    public String provider;

    private KeyPair caKeys;
    private byte[][] messages;
    private byte[][] publicKeys;
    private byte[][] signatures;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        KeyPairGenerator generator = provider().equals("BC")
                ? KeyPairGenerator.getInstance("EC", CryptoProvider.bouncyCastle())
                : KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        caKeys = generator.generateKeyPair();
        String[] ids = new String[POOL];
        for (int i = 0; i < POOL; i++) {
            ids[i] = String.format("raw-%07d", i);
        }
        byte[][] csrs = IssuanceBenchmark.ecP256Csrs(ids);
        messages = new byte[POOL][];
        publicKeys = new byte[POOL][];
        signatures = new byte[POOL][];
        for (int i = 0; i < POOL; i++) {
            PKCS10CertificationRequest csr = new PKCS10CertificationRequest(csrs[i]);
            messages[i] = csr.toASN1Structure().getCertificationRequestInfo().getEncoded("DER");
            publicKeys[i] = csr.getSubjectPublicKeyInfo().getEncoded("DER");
            signatures[i] = csr.getSignature();
        }
    }

    /** One thread's JCA objects: not thread-safe, so one set per benchmark thread. */
    @State(Scope.Thread)
    public static class Engines {
        Signature signer;
        Signature verifier;
        KeyFactory keyFactory;
        int index;

        @Setup(Level.Trial)
        public void setUp(RawEcdsaBenchmark bench) throws GeneralSecurityException {
            boolean bc = bench.provider().equals("BC");
            signer = bc ? Signature.getInstance(ALGORITHM, CryptoProvider.bouncyCastle()) : Signature.getInstance(ALGORITHM);
            verifier = bc ? Signature.getInstance(ALGORITHM, CryptoProvider.bouncyCastle()) : Signature.getInstance(ALGORITHM);
            keyFactory = bc ? KeyFactory.getInstance("EC", CryptoProvider.bouncyCastle()) : KeyFactory.getInstance("EC");
            signer.initSign(bench.caKeys.getPrivate());
        }

        int next() {
            return index++ & (POOL - 1);
        }
    }

    @Benchmark
    public byte[] sign(Engines engines) throws GeneralSecurityException {
        return sign(engines, engines.next());
    }

    @Benchmark
    public boolean verifyFreshKey(Engines engines) throws GeneralSecurityException {
        return verify(engines, engines.next());
    }

    @Benchmark
    public byte[] signAndVerify(Engines engines) throws GeneralSecurityException {
        int i = engines.next();
        verify(engines, i);
        return sign(engines, i);
    }

    private byte[] sign(Engines engines, int i) throws GeneralSecurityException {
        engines.signer.update(messages[i]); // sign() leaves the signer initialised with the same key
        return engines.signer.sign();
    }

    private boolean verify(Engines engines, int i) throws GeneralSecurityException {
        PublicKey key = engines.keyFactory.generatePublic(new X509EncodedKeySpec(publicKeys[i]));
        engines.verifier.initVerify(key);
        engines.verifier.update(messages[i]);
        if (!engines.verifier.verify(signatures[i])) {
            throw new IllegalStateException("the signature of CSR " + i + " does not verify");
        }
        return true;
    }

    private String provider() {
        if (!provider.equals("BC") && !provider.equals("JDK")) {
            throw new IllegalArgumentException("provider is '" + provider + "'; use BC or JDK");
        }
        return provider;
    }
}
