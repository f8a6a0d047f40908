package io.fleetkey.server.authority;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import io.fleetkey.protocol.Certificates;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's keys on disk: {@code ca/ca.p12} in the data folder, a PKCS#12 file encrypted with
 * the CA passphrase (AES-256 under PBES2, the JDK's default) and readable by its owner only.
 * On first start it creates a root (EC P-384, 20 years, pathLen 1) and an issuing CA
 * (P-256 or P-384, 10 years, pathLen 0), or imports an existing issuing CA.
 */
public final class CaKeystore {
    public static final String ISSUING_ALIAS = "issuing";
    public static final String ROOT_ALIAS = "root";
    static final Duration ROOT_VALIDITY = Duration.ofDays(20 * 365 + 5);
    static final Duration ISSUING_VALIDITY = Duration.ofDays(10 * 365 + 2);

    private static final Logger LOG = LoggerFactory.getLogger(CaKeystore.class);

    /** Where to find the CA and how to make or import it. */
    public record Settings(Path dataDir, String password, String issuingCurve,
                           Path importPkcs12, String importPkcs12Password,
                           Path importCertificateChain, Path importPrivateKey, String importPrivateKeyPassword) {
    }

    /** The loaded issuing CA: its key and its chain (issuing first, root last). */
    public record IssuingCa(PrivateKey key, List<X509Certificate> chain, char[] passphrase) {
    }

    private CaKeystore() {
    }

    public static Path keystoreFile(Path dataDir) {
        return dataDir.resolve("ca").resolve("ca.p12");
    }

    public static Path passwordFile(Path dataDir) {
        return dataDir.resolve("ca").resolve("ca-password");
    }

    /** Loads the CA, creating or importing it on first start. */
    public static IssuingCa loadOrCreate(Settings settings, CryptoProvider provider, Instant now) {
        try {
            Path file = keystoreFile(settings.dataDir());
            char[] passphrase = passphrase(settings, Files.exists(file));
            if (!Files.exists(file)) {
                if (settings.importPkcs12() != null || settings.importCertificateChain() != null) {
                    importCa(settings, passphrase, file);
                } else {
                    create(settings, passphrase, file, provider, now);
                }
                Files.writeString(settings.dataDir().resolve("ca").resolve("chain.pem"),
                        Certificates.toPem(load(file, passphrase).chain()));
            }
            return load(file, passphrase);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up the CA in " + settings.dataDir().toAbsolutePath()
                    + ": " + e.getMessage(), e);
        }
    }

    private static char[] passphrase(Settings settings, boolean keystoreExists) throws IOException {
        if (settings.password() != null && !settings.password().isBlank()) {
            return settings.password().toCharArray();
        }
        Path pwFile = passwordFile(settings.dataDir());
        if (Files.exists(pwFile)) {
            LOG.warn("The CA passphrase is read from {}: set FLEETKEY_CA_PASSWORD from a secret store and delete "
                    + "that file for production", pwFile.toAbsolutePath());
            return Files.readString(pwFile, StandardCharsets.UTF_8).trim().toCharArray();
        }
        if (keystoreExists) {
            throw new IllegalStateException("the CA keystore " + keystoreFile(settings.dataDir())
                    + " exists but no passphrase is known: set FLEETKEY_CA_PASSWORD to the passphrase it was made with");
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        SecretFiles.write(pwFile, (generated + "\n").getBytes(StandardCharsets.UTF_8));
        LOG.warn("FLEETKEY_CA_PASSWORD is not set: generated a CA passphrase and stored it in {} (mode 0600). "
                + "Anyone who can read that file can use the CA key; for production set FLEETKEY_CA_PASSWORD "
                + "from a secret store and delete the file.", pwFile.toAbsolutePath());
        return generated.toCharArray();
    }

    private static void create(Settings settings, char[] passphrase, Path file, CryptoProvider provider,
                               Instant now) throws GeneralSecurityException, IOException {
        KeyPair rootKeys = ecKeyPair("secp384r1");
        X509Certificate root = CertificateAuthority.createRoot(rootKeys,
                new X500Name("O=Fleetkey,CN=Fleetkey Root CA"), ROOT_VALIDITY, 1, now, provider);
        String curve = "P-384".equals(settings.issuingCurve()) ? "secp384r1" : "secp256r1";
        KeyPair issuingKeys = ecKeyPair(curve);
        X509Certificate issuing = CertificateAuthority.createSubordinate(issuingKeys.getPublic(),
                new X500Name("O=Fleetkey,CN=Fleetkey Issuing CA"), root, rootKeys.getPrivate(),
                ISSUING_VALIDITY, 0, now, provider);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(ROOT_ALIAS, rootKeys.getPrivate(), passphrase, new Certificate[]{root});
        ks.setKeyEntry(ISSUING_ALIAS, issuingKeys.getPrivate(), passphrase, new Certificate[]{issuing, root});
        store(ks, passphrase, file);
        LOG.info("Created a new CA in {}: root {} (EC P-384), issuing {} ({})", file.toAbsolutePath(),
                root.getSubjectX500Principal().getName(), issuing.getSubjectX500Principal().getName(),
                settings.issuingCurve());
    }

    private static void importCa(Settings settings, char[] passphrase, Path file)
            throws GeneralSecurityException, IOException {
        PrivateKey key;
        List<X509Certificate> chain = new ArrayList<>();
        String source;
        if (settings.importPkcs12() != null) {
            source = settings.importPkcs12().toString();
            KeyStore in = KeyStore.getInstance("PKCS12");
            char[] pw = settings.importPkcs12Password() == null ? new char[0]
                    : settings.importPkcs12Password().toCharArray();
            try (InputStream stream = Files.newInputStream(settings.importPkcs12())) {
                in.load(stream, pw);
            }
            String alias = null;
            for (String a : Collections.list(in.aliases())) {
                if (in.isKeyEntry(a)) {
                    alias = a;
                    break;
                }
            }
            if (alias == null) {
                throw new IllegalStateException(source + " holds no private key entry");
            }
            key = (PrivateKey) in.getKey(alias, pw);
            for (Certificate c : in.getCertificateChain(alias)) {
                chain.add((X509Certificate) c);
            }
        } else {
            source = settings.importCertificateChain() + " + " + settings.importPrivateKey();
            if (settings.importPrivateKey() == null) {
                throw new IllegalStateException("fleetkey.ca.import-certificate-chain is set but "
                        + "fleetkey.ca.import-private-key is not: set both to import a CA from PEM");
            }
            chain.addAll(Certificates.fromPem(Files.readString(settings.importCertificateChain())));
            key = readPemKey(settings.importPrivateKey(), settings.importPrivateKeyPassword());
        }
        checkImportedCa(key, chain, source);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(ISSUING_ALIAS, key, passphrase, chain.toArray(Certificate[]::new));
        store(ks, passphrase, file);
        LOG.info("Imported issuing CA {} from {}", chain.get(0).getSubjectX500Principal().getName(), source);
    }

    private static void checkImportedCa(PrivateKey key, List<X509Certificate> chain, String source)
            throws GeneralSecurityException {
        X509Certificate issuing = chain.get(0);
        if (issuing.getBasicConstraints() < 0) {
            throw new IllegalStateException("the first certificate of " + source + " ("
                    + issuing.getSubjectX500Principal().getName() + ") is not a CA certificate");
        }
        boolean[] ku = issuing.getKeyUsage();
        if (ku != null && !ku[5]) {
            throw new IllegalStateException("the issuing CA of " + source + " lacks the keyCertSign key usage");
        }
        String alg = SignatureAlgorithms.forKey(issuing.getPublicKey());
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        byte[] probe = "fleetkey-ca-import".getBytes(StandardCharsets.US_ASCII);
        s.update(probe);
        byte[] sig = s.sign();
        s.initVerify(issuing.getPublicKey());
        s.update(probe);
        if (!s.verify(sig)) {
            throw new IllegalStateException("the private key of " + source + " does not match its CA certificate");
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            chain.get(i).verify(chain.get(i + 1).getPublicKey());
        }
    }

    private static PrivateKey readPemKey(Path file, String password) throws IOException, GeneralSecurityException {
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                if (password == null) {
                    throw new IllegalStateException(file + " is encrypted: set fleetkey.ca.import-private-key-password");
                }
                try {
                    return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                            new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(CryptoProvider.bouncyCastle())
                                    .build(password.toCharArray())));
                } catch (org.bouncycastle.operator.OperatorCreationException
                         | org.bouncycastle.pkcs.PKCSException e) {
                    throw new IllegalStateException("cannot decrypt " + file + ": wrong password?", e);
                }
            }
            throw new IllegalStateException(file + " holds no PEM private key (expected PRIVATE KEY, "
                    + "ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
        }
    }

    private static IssuingCa load(Path file, char[] passphrase) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, passphrase);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the CA keystore " + file
                    + ": wrong passphrase? Set FLEETKEY_CA_PASSWORD to the one it was made with", e);
        }
        PrivateKey key = (PrivateKey) ks.getKey(ISSUING_ALIAS, passphrase);
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : ks.getCertificateChain(ISSUING_ALIAS)) {
            chain.add((X509Certificate) c);
        }
        return new IssuingCa(key, chain, passphrase);
    }

    private static void store(KeyStore ks, char[] passphrase, Path file) throws GeneralSecurityException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, passphrase);
        SecretFiles.write(file, out.toByteArray());
    }

    static KeyPair ecKeyPair(String curve) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }
}
