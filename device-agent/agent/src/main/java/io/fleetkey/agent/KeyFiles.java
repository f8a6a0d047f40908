package io.fleetkey.agent;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import io.fleetkey.protocol.BouncyCastle;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.DeviceIds;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.jce.interfaces.ECPrivateKey;
import org.bouncycastle.jce.spec.ECParameterSpec;
import org.bouncycastle.jce.spec.ECPublicKeySpec;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The device's key material on disk and in requests: keys of a {@link DeviceKeyType} (EC P-256
 * by default, what the server's CSR attributes ask for) made with Bouncy Castle,
 * PKCS#10 requests, private keys as PKCS#8 PEM that only the owner can read, certificate
 * chains as PEM. Nothing here logs or prints key material.
 */
public final class KeyFiles {

    private static final Provider BC = BouncyCastle.PROVIDER;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_READ_WRITE =
            PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> WORLD_READABLE =
            PosixFilePermissions.fromString("rw-r--r--");

    private KeyFiles() {
    }

    /** A new EC P-256 key pair. */
    public static KeyPair generateKeyPair() {
        return generateKeyPair(DeviceKeyType.P256);
    }

    /** A new key pair of this kind. */
    public static KeyPair generateKeyPair(DeviceKeyType type) {
        return type.generate(BC, RANDOM);
    }

    /**
     * The signature algorithm for a key: SHA256withECDSA on P-256, SHA384withECDSA on P-384,
     * SHA512withECDSA on P-521, Ed25519, SHA256withRSA.
     *
     * @throws IllegalArgumentException for any other key, naming the ones that work
     */
    public static String signatureAlgorithm(java.security.Key key) {
        if (key instanceof java.security.interfaces.ECKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return bits <= 256 ? "SHA256withECDSA" : bits <= 384 ? "SHA384withECDSA" : "SHA512withECDSA";
        }
        if (key instanceof java.security.interfaces.RSAKey) {
            return "SHA256withRSA";
        }
        if ("Ed25519".equalsIgnoreCase(key.getAlgorithm()) || "EdDSA".equalsIgnoreCase(key.getAlgorithm())) {
            return "Ed25519";
        }
        throw new IllegalArgumentException("a " + key.getAlgorithm()
                + " key cannot be used; device keys are EC P-256, EC P-384, Ed25519 or RSA");
    }

    /**
     * A DER PKCS#10 request for the key, subject CN = device id, signed with the algorithm that fits the key
     * (proof of possession, RFC 2986 §3).
     */
    public static byte[] certificationRequest(KeyPair keys, String deviceId) {
        return certificationRequest(keys, deviceId, List.of());
    }

    /**
     * As {@link #certificationRequest(KeyPair, String)}, with attributes added to the request in
     * the given order: the enrollment token ({@link #challengePassword}), attestation evidence, ...
     */
    public static byte[] certificationRequest(KeyPair keys, String deviceId, List<Attribute> attributes) {
        if (!DeviceIds.isValid(deviceId)) {
            throw new IllegalArgumentException("invalid device id: use " + DeviceIds.rule());
        }
        try {
            PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
                    new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build(), keys.getPublic());
            for (Attribute attribute : attributes) {
                builder.addAttribute(attribute.getAttrType(), attribute.getAttributeValues());
            }
            PKCS10CertificationRequest csr = builder.build(contentSigner(keys.getPrivate(), keys.getPublic()));
            return csr.getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot build the certification request", e);
        }
    }

    /**
     * A signer for the request: Bouncy Castle for a key in memory; for a key that stays in a
     * token (a PKCS#11 handle, whose encoding is not available) the JVM picks the provider that
     * can use it.
     */
    static org.bouncycastle.operator.ContentSigner contentSigner(PrivateKey key, PublicKey publicKey)
            throws OperatorCreationException {
        JcaContentSignerBuilder builder = new JcaContentSignerBuilder(signatureAlgorithm(publicKey));
        if (key.getEncoded() != null) {
            builder.setProvider(BC);
        }
        return builder.build(key);
    }

    /**
     * The PKCS#9 {@code challengePassword} attribute (RFC 2985 §5.4.1) that carries a one-time
     * enrollment token in a CSR, the same on every door. A UTF8String, one of the DirectoryString
     * choices; the CSR is only ever sent over TLS or DTLS that authenticated the server.
     */
    public static Attribute challengePassword(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("the enrollment token is empty");
        }
        return new Attribute(PKCSObjectIdentifiers.pkcs_9_at_challengePassword, new DERSet(new DERUTF8String(token)));
    }

    /**
     * Writes the private key as unencrypted PKCS#8 PEM ("PRIVATE KEY") to a new file. On a POSIX
     * file system the file is created with mode 0600, so it is never readable by others, not even
     * for a moment; elsewhere it gets the directory's default access rules. The data is forced to
     * the device before returning.
     *
     * @throws java.nio.file.FileAlreadyExistsException when the file exists: keys are never overwritten in place
     */
    public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            pem.writeObject(new JcaPKCS8Generator(key, null));
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        try {
            writeNew(file, bytes, ownerOnly(file.getFileSystem()));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Reads a PKCS#8 PEM private key and derives its public key.
     *
     * @throws IOException when the file cannot be read or holds no unencrypted PKCS#8 EC key
     */
    public static KeyPair readKeyPair(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        Object object;
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            object = parser.readObject();
        }
        if (!(object instanceof PrivateKeyInfo info)) {
            throw new IOException(file + " does not hold an unencrypted PKCS#8 private key (PEM \"PRIVATE KEY\")");
        }
        try {
            byte[] der = info.getEncoded();
            String algorithm = info.getPrivateKeyAlgorithm().getAlgorithm().getId();
            if (algorithm.equals(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey.getId())) {
                PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
                return new KeyPair(publicKeyOf(der), key);
            }
            if (algorithm.equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption.getId())) {
                KeyFactory rsa = KeyFactory.getInstance("RSA");
                java.security.interfaces.RSAPrivateCrtKey key = (java.security.interfaces.RSAPrivateCrtKey)
                        rsa.generatePrivate(new PKCS8EncodedKeySpec(der));
                return new KeyPair(rsa.generatePublic(new java.security.spec.RSAPublicKeySpec(key.getModulus(),
                        key.getPublicExponent())), key);
            }
            if (algorithm.equals(org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519.getId())) {
                // RFC 8410: the public key is derived from the 32-byte seed.
                var seed = new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(
                        org.bouncycastle.asn1.ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets(), 0);
                byte[] spki = new org.bouncycastle.asn1.x509.SubjectPublicKeyInfo(info.getPrivateKeyAlgorithm(),
                        seed.generatePublicKey().getEncoded()).getEncoded();
                KeyFactory ed = KeyFactory.getInstance("Ed25519");
                return new KeyPair(ed.generatePublic(new X509EncodedKeySpec(spki)),
                        ed.generatePrivate(new PKCS8EncodedKeySpec(der)));
            }
            throw new IOException(file + " holds a key of algorithm " + algorithm
                    + "; device keys are EC, RSA or Ed25519");
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(file + " does not hold a usable private key: " + e.getMessage(), e);
        }
    }

    /** The public key of an EC private key: Q = d·G on the key's curve. */
    private static PublicKey publicKeyOf(byte[] pkcs8) throws GeneralSecurityException {
        KeyFactory factory = KeyFactory.getInstance("EC", BC);
        ECPrivateKey key = (ECPrivateKey) factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        ECParameterSpec spec = key.getParameters();
        return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(
                factory.generatePublic(new ECPublicKeySpec(spec.getG().multiply(key.getD()).normalize(), spec))
                        .getEncoded()));
    }

    /**
     * Writes the key and its chain as a PKCS#12 file (AES-256, PBKDF2, as the JDK writes it) to
     * a new file of mode 0600, forced to the disk. Java applications load it with
     * {@code KeyStore.getInstance("PKCS12")}; {@code openssl pkcs12} reads it too.
     */
    public static void writeKeyStore(Path file, String alias, PrivateKey key, List<X509Certificate> chain,
                                     char[] password) throws IOException {
        byte[] bytes;
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(alias, key, password, chain.toArray(X509Certificate[]::new));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            store.store(out, password);
            bytes = out.toByteArray();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make the PKCS#12 key store: " + e.getMessage(), e);
        }
        try {
            writeNew(file, bytes, ownerOnly(file.getFileSystem()));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Writes certificates as PEM to a new file readable by everyone (certificates are public). */
    public static void writeCertificates(Path file, List<X509Certificate> certificates) throws IOException {
        byte[] pem = Certificates.toPem(certificates).getBytes(StandardCharsets.US_ASCII);
        writeNew(file, pem, isPosix(file.getFileSystem())
                ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(WORLD_READABLE)}
                : new FileAttribute<?>[0]);
    }

    /** Creates the file with the given attributes (failing if it exists), writes, and forces it to disk. */
    private static void writeNew(Path file, byte[] content, FileAttribute<?>[] attributes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attributes)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /**
     * Reads every certificate of a PEM file, in file order.
     *
     * @throws IOException when the file cannot be read or holds anything but certificates
     */
    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        try {
            return Certificates.fromPem(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** True when the certificate certifies this public key. */
    public static boolean certifies(X509Certificate certificate, PublicKey key) {
        return Arrays.equals(certificate.getPublicKey().getEncoded(), key.getEncoded());
    }

    static FileAttribute<?>[] ownerOnly(FileSystem fileSystem) {
        return isPosix(fileSystem)
                ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(OWNER_READ_WRITE)}
                : new FileAttribute<?>[0];
    }

    static boolean isPosix(FileSystem fileSystem) {
        return fileSystem.supportedFileAttributeViews().contains("posix");
    }
}
