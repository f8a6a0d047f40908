package io.fleetkey.simulator.factory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.fleetkey.protocol.DeviceIds;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * The files of a factory directory, and how each is written. Secrets (key stores, the
 * generated password) are created with mode 0600, so they are never readable by others,
 * not even for a moment; certificates, the CRL and the CSV ledgers are public.
 *
 * <pre>
 * DIR/maker-ca.pem         the maker CA certificate (public; what a group trusts)
 * DIR/maker-ca.p12         its key and certificate, PKCS#12, alias "maker-ca" (0600)
 * DIR/factory-password     the generated password, only when none was given (0600)
 * DIR/devices/ID.p12       one IDevID each: key, certificate, maker CA, alias "idevid" (0600)
 * DIR/issued.csv           serial,deviceId,notAfter,key of every IDevID issued
 * DIR/revoked.csv          serial,deviceId,revokedAt,reason of every IDevID revoked
 * DIR/maker-ca.crl.pem     the maker's CRL (public)
 * </pre>
 */
final class FactoryDirectory {
    static final String CA_CERTIFICATE = "maker-ca.pem";
    static final String CA_STORE = "maker-ca.p12";
    static final String PASSWORD_FILE = "factory-password";
    static final String DEVICES = "devices";
    static final String ISSUED = "issued.csv";
    static final String REVOKED = "revoked.csv";
    static final String CRL = "maker-ca.crl.pem";
    static final String CA_ALIAS = "maker-ca";
    static final String DEVICE_ALIAS = "idevid";
    static final String ISSUED_HEADER = "serial,deviceId,notAfter,key";

    private static final String LOCK = ".lock";
    private static final String P12 = ".p12";
    /** Java 17's PKCS#12 default, named so that a changed java.security cannot weaken it. */
    private static final String KEY_PROTECTION = "PBEWithHmacSHA256AndAES_256";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");

    /** A serial issued to a device, a line of {@code issued.csv}. */
    record IssuedEntry(BigInteger serial, String deviceId, Instant notAfter, String keyType) {
        String toCsv() {
            return serial.toString(16) + "," + deviceId + "," + notAfter + "," + keyType;
        }
    }

    /** The key store does not open with the password given. */
    static final class WrongPasswordException extends Exception {
        private static final long serialVersionUID = 1L;

        WrongPasswordException(Path file) {
            super("the password does not open " + file);
        }
    }

    private final Path dir;

    FactoryDirectory(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    Path caCertificateFile() {
        return dir.resolve(CA_CERTIFICATE);
    }

    Path caStoreFile() {
        return dir.resolve(CA_STORE);
    }

    Path passwordFile() {
        return dir.resolve(PASSWORD_FILE);
    }

    Path devicesDir() {
        return dir.resolve(DEVICES);
    }

    Path deviceFile(String deviceId) {
        if (!DeviceIds.isValid(deviceId)) {
            throw new IllegalArgumentException("invalid device id");
        }
        return devicesDir().resolve(deviceId + P12);
    }

    Path issuedFile() {
        return dir.resolve(ISSUED);
    }

    Path revokedFile() {
        return dir.resolve(REVOKED);
    }

    Path crlFile() {
        return dir.resolve(CRL);
    }

    boolean hasMakerCa() {
        return Files.exists(caStoreFile()) || Files.exists(caCertificateFile());
    }

    /** Creates the directory (owner-only when new) and {@code devices/} in it. */
    void create() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, directoryAttributes());
        }
        if (!Files.isDirectory(devicesDir())) {
            Files.createDirectory(devicesDir(), directoryAttributes());
        }
    }

    /**
     * Holds an exclusive lock on the directory until closed, so that two factory commands never
     * interleave their writes.
     *
     * @throws IOException when another process holds it
     */
    AutoCloseable lock() throws IOException {
        FileChannel channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("another factory command is working in " + dir + "; wait for it to finish");
        }
        return () -> {
            lock.release();
            channel.close();
        };
    }

    // ---- secrets ----

    /** Writes a new file that only the owner can read (0600 from its creation on POSIX systems). */
    static void writeSecret(Path file, byte[] content) throws IOException {
        writeNew(file, content, isPosix(file) ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0]);
    }

    /** PKCS#12 of the key and its chain under one alias; key and certificates encrypted with AES-256 (PBKDF2). */
    static byte[] pkcs12(String alias, PrivateKey key, List<X509Certificate> chain, char[] password) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setEntry(alias, new KeyStore.PrivateKeyEntry(key, chain.toArray(new Certificate[0])),
                    new KeyStore.PasswordProtection(password, KEY_PROTECTION, null));
            ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
            store.store(out, password);
            return out.toByteArray();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a PKCS#12 key store", e);
        }
    }

    /** The key entry of a PKCS#12 file. */
    static KeyStore.PrivateKeyEntry readPkcs12(Path file, String alias, char[] password)
            throws IOException, WrongPasswordException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), password);
            if (!(store.getEntry(alias, new KeyStore.PasswordProtection(password))
                    instanceof KeyStore.PrivateKeyEntry entry)) {
                throw new IOException(file + " holds no key entry '" + alias + "'");
            }
            return entry;
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new WrongPasswordException(file);
            }
            throw new IOException(file + " is not a readable PKCS#12 key store", e);
        } catch (UnrecoverableKeyException e) {
            throw new WrongPasswordException(file);
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " cannot be read: " + e.getMessage(), e);
        }
    }

    MakerCa loadMakerCa(char[] password) throws IOException, WrongPasswordException {
        KeyStore.PrivateKeyEntry entry = readPkcs12(caStoreFile(), CA_ALIAS, password);
        return new MakerCa((X509Certificate) entry.getCertificate(), entry.getPrivateKey());
    }

    // ---- public files ----

    /** Writes a new public file (0644); fails if it exists. */
    static void writePublic(Path file, byte[] content) throws IOException {
        writeNew(file, content, isPosix(file) ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PUBLIC)}
                : new FileAttribute<?>[0]);
    }

    /** Replaces a public file at once: readers see the old content or the new, never a mix. */
    static void replacePublic(Path file, byte[] content) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".new");
        Files.deleteIfExists(temporary);
        writePublic(temporary, content);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write PEM", e);
        }
        return text.toString();
    }

    // ---- devices and ledgers ----

    /** The ids of the devices that have a {@code devices/ID.p12}, sorted. */
    List<String> deviceIdsOnDisk() throws IOException {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(devicesDir())) {
            return ids;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(devicesDir(), "*" + P12)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String id = name.substring(0, name.length() - P12.length());
                if (DeviceIds.isValid(id)) {
                    ids.add(id);
                }
            }
        }
        Collections.sort(ids);
        return ids;
    }

    /** Appends lines to {@code issued.csv}, with its header when the file is new. */
    synchronized void appendIssued(List<IssuedEntry> entries) throws IOException {
        StringBuilder text = new StringBuilder();
        if (!Files.exists(issuedFile())) {
            writePublic(issuedFile(), (ISSUED_HEADER + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        for (IssuedEntry entry : entries) {
            text.append(entry.toCsv()).append('\n');
        }
        try (FileChannel channel = FileChannel.open(issuedFile(), StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            write(channel, text.toString().getBytes(StandardCharsets.US_ASCII));
        }
    }

    List<IssuedEntry> issued() throws IOException {
        List<IssuedEntry> entries = new ArrayList<>();
        for (String line : csvLines(issuedFile(), ISSUED_HEADER)) {
            String[] f = line.split(",", -1);
            try {
                entries.add(new IssuedEntry(new BigInteger(f[0], 16), f[1], Instant.parse(f[2]), f[3]));
            } catch (RuntimeException e) {
                throw new IOException(issuedFile() + ": cannot read the line '" + line + "'", e);
            }
        }
        return entries;
    }

    List<RevokedEntry> revoked() throws IOException {
        List<RevokedEntry> entries = new ArrayList<>();
        for (String line : csvLines(revokedFile(), RevokedEntry.CSV_HEADER)) {
            try {
                entries.add(RevokedEntry.fromCsv(line));
            } catch (RuntimeException e) {
                throw new IOException(revokedFile() + ": cannot read the line '" + line + "': " + e.getMessage(), e);
            }
        }
        return entries;
    }

    void writeRevoked(List<RevokedEntry> entries) throws IOException {
        StringBuilder text = new StringBuilder(RevokedEntry.CSV_HEADER).append('\n');
        for (RevokedEntry entry : entries) {
            text.append(entry.toCsv()).append('\n');
        }
        replacePublic(revokedFile(), text.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** The CRL published last, if any. */
    Optional<X509CRL> currentCrl() throws IOException {
        if (!Files.exists(crlFile())) {
            return Optional.empty();
        }
        try {
            return Optional.of((X509CRL) CertificateFactory.getInstance("X.509")
                    .generateCRL(new ByteArrayInputStream(Files.readAllBytes(crlFile()))));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(crlFile() + " is not a readable CRL; move it away and run 'factory crl' again", e);
        }
    }

    /** The cRLNumber of a CRL (RFC 5280 §5.2.3), or zero when it has none. */
    static BigInteger crlNumber(X509CRL crl) {
        byte[] value = crl.getExtensionValue(Extension.cRLNumber.getId());
        if (value == null) {
            return BigInteger.ZERO;
        }
        return ASN1Integer.getInstance(ASN1OctetString.getInstance(value).getOctets()).getValue();
    }

    private static List<String> csvLines(Path file, String header) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        for (String line : lines) {
            if (!line.isBlank() && !line.equals(header)) {
                result.add(line.trim());
            }
        }
        return result;
    }

    private static void writeNew(Path file, byte[] content, FileAttribute<?>[] attributes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attributes)) {
            write(channel, content);
            channel.force(true);
        }
    }

    private static void write(FileChannel channel, byte[] content) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private FileAttribute<?>[] directoryAttributes() {
        return isPosix(dir) ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIRECTORY)}
                : new FileAttribute<?>[0];
    }

    private static boolean isPosix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
