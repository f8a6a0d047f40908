package io.fleetkey.server.ocsp;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.authority.KeyEntryFiles;
import io.fleetkey.server.authority.SoftwareCaSigner;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The responder's delegated signing key and certificate (RFC 6960 §4.2.2.2), kept in
 * {@code ca/ocsp-signer.p12} (0600, under the CA passphrase): an EC P-256 key of its own, so the
 * issuing CA's key signs nothing at the responder's rate. The certificate is short-lived and
 * replaced, with a new key, when less than {@code renewBefore} is left, when the issuing CA changed,
 * or when the file is missing. Recorded in the registry before it is used, like every certificate
 * the CA signs. Thread-safe: {@link #current()} never waits; renewals run one at a time.
 */
public final class OcspSigning {
    static final String SUBJECT = "O=Fleetkey,CN=Fleetkey OCSP Responder";
    private static final String ALIAS = "ocsp-signer";
    private static final Logger LOG = LoggerFactory.getLogger(OcspSigning.class);

    /** Where the signer lives and how long its certificates are. */
    public record Settings(Path file, char[] passphrase, Duration validity, Duration renewBefore) {
    }

    /**
     * A signing certificate ready to sign responses.
     *
     * @param signer the key behind Bouncy Castle's operator layer, one ContentSigner per response
     * @param respId the responder ID by key hash (RFC 6960 §4.2.2.3; RFC 5019 §2.2.2 prefers it)
     */
    public record Signer(X509Certificate certificate, X509CertificateHolder holder, SoftwareCaSigner signer,
                         RespID respId) {
    }

    private final Settings settings;
    private final CertificateAuthority authority;
    private final CryptoProvider provider;
    private final Consumer<X509Certificate> record;
    private volatile Signer current;

    /**
     * @param record stores a newly issued certificate in the registry; it runs before the
     *               certificate is written or used
     */
    public OcspSigning(Settings settings, CertificateAuthority authority, CryptoProvider provider,
                       Consumer<X509Certificate> record) {
        this.settings = settings;
        this.authority = authority;
        this.provider = provider;
        this.record = record;
    }

    /** The signer to use now; {@link #renewIfDue} must have run once. */
    public Signer current() {
        Signer s = current;
        if (s == null) {
            throw new IllegalStateException("the OCSP signer is not set up yet");
        }
        return s;
    }

    /**
     * Loads the signer from its file, or issues a new one if it is missing, due for renewal, or from
     * another issuing CA.
     *
     * @return true when a new certificate was issued
     */
    public synchronized boolean renewIfDue(Instant now) {
        try {
            Signer loaded = current != null ? current : load();
            if (loaded != null && !due(loaded.certificate(), now)) {
                current = loaded;
                return false;
            }
            current = issue(now);
            return true;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up the OCSP signing certificate in " + settings.file()
                    + ": " + e.getMessage(), e);
        }
    }

    private boolean due(X509Certificate cert, Instant now) {
        X509Certificate issuing = authority.chain().get(0);
        return !cert.getNotAfter().toInstant().isAfter(now.plus(settings.renewBefore()))
                || !cert.getIssuerX500Principal().equals(issuing.getSubjectX500Principal())
                || !verifiesWith(cert, issuing);
    }

    private static boolean verifiesWith(X509Certificate cert, X509Certificate issuer) {
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private Signer load() throws IOException, GeneralSecurityException {
        if (!Files.exists(settings.file())) {
            return null;
        }
        KeyEntryFiles.KeyEntry entry = KeyEntryFiles.read(settings.file(), ALIAS, settings.passphrase());
        return signer(entry.key(), entry.chain().get(0));
    }

    private Signer issue(Instant now) throws IOException, GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        BigInteger serial = CertificateAuthority.newSerialNumber();
        X509Certificate cert = authority.issueOcspSigner(new X500Name(SUBJECT),
                SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()), settings.validity(), serial, now);
        record.accept(cert);
        KeyEntryFiles.write(settings.file(), ALIAS, keys.getPrivate(),
                List.of(cert, authority.chain().get(0)), settings.passphrase());
        LOG.info("Issued the OCSP signing certificate {} ({}), valid until {}", serial.toString(16), SUBJECT,
                cert.getNotAfter().toInstant());
        return signer(keys.getPrivate(), cert);
    }

    private Signer signer(java.security.PrivateKey key, X509Certificate cert) throws IOException,
            GeneralSecurityException {
        X509CertificateHolder holder = new X509CertificateHolder(cert.getEncoded());
        try {
            DigestCalculator sha1 = new JcaDigestCalculatorProviderBuilder().build()
                    .get(RespID.HASH_SHA1);
            RespID respId = new RespID(holder.getSubjectPublicKeyInfo(), sha1);
            return new Signer(cert, holder, new SoftwareCaSigner(key, List.of(cert), provider), respId);
        } catch (OperatorCreationException | OCSPException e) {
            throw new GeneralSecurityException("cannot compute the responder ID: " + e.getMessage(), e);
        }
    }
}
