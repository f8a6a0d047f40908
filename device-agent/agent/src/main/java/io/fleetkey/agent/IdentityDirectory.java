package io.fleetkey.agent;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The device identity kept as files in one directory, replaced as a whole on renewal.
 * <pre>
 *   DIR/                      0700 when created here
 *     device.p12 -&gt; current/device.p12    fixed paths for applications: key and chain, PKCS#12
 *     device.key -&gt; current/device.key    the same key as PKCS#8 PEM (for curl, openssl, nginx)
 *     device.crt -&gt; current/device.crt    device certificate, then its issuing CAs
 *     ca.pem     -&gt; current/ca.pem        the server's CA certificates (RFC 7030 §4.1.3)
 *     current    -&gt; generations/SERIAL    switched with one rename(2)
 *     generations/SERIAL/                 one complete key + certificate set; the current one and
 *                                         the one before it (a fallback), older ones are deleted
 *     pending/device.key                  key of an enrollment not yet answered
 * </pre>
 * A new key is written to {@code pending/} before its CSR is sent, so a retry after a lost
 * answer sends the same key and the server returns the certificate it already issued. When
 * the certificate arrives, the pending set becomes a generation and {@code current} is
 * switched to it atomically: a reader that resolves {@code current} once sees the old pair or
 * the new pair, never a mix. Every file holding a key has mode 0600 and is written, forced to
 * the disk and then renamed into place; the PKCS#12 store is protected by the password given
 * (empty by default: the 0600 mode is what protects it, as for the PEM file).
 * <p>
 * Needs a file system with symbolic links. Not thread-safe; processes coordinate with
 * {@link #lock()}.
 */
public final class IdentityDirectory implements CredentialStore {
    public static final String KEY_STORE_FILE = "device.p12";
    /** The alias of the key entry in {@value #KEY_STORE_FILE}. */
    public static final String KEY_STORE_ALIAS = "device";
    public static final String KEY_FILE = "device.key";
    public static final String CERTIFICATE_FILE = "device.crt";
    public static final String CA_FILE = "ca.pem";
    private static final String CURRENT = "current";
    private static final String GENERATIONS = "generations";
    private static final String PENDING = "pending";
    private static final String LOCK_FILE = ".lock";

    private final Path dir;
    private final char[] keyStorePassword;

    public IdentityDirectory(Path dir) {
        this(dir, new char[0]);
    }

    /** @param keyStorePassword protects {@value #KEY_STORE_FILE} (the command line takes FLEETKEY_KEYSTORE_PASSWORD) */
    public IdentityDirectory(Path dir, char[] keyStorePassword) {
        this.dir = dir.toAbsolutePath().normalize();
        this.keyStorePassword = keyStorePassword.clone();
    }

    @Override
    public String location() {
        return dir.toString();
    }

    /** Where applications find the key and chain as PKCS#12; follows renewals. */
    public Path keyStoreFile() {
        return dir.resolve(KEY_STORE_FILE);
    }

    public Path dir() {
        return dir;
    }

    /** Where applications find the private key; follows renewals. */
    public Path keyFile() {
        return dir.resolve(KEY_FILE);
    }

    /** Where applications find the certificate chain; follows renewals. */
    public Path certificateFile() {
        return dir.resolve(CERTIFICATE_FILE);
    }

    /** Where applications find the CA certificates to trust for Fleetkey peers. */
    public Path caFile() {
        return dir.resolve(CA_FILE);
    }

    /**
     * The current identity, read from one generation so key and chain always belong together.
     *
     * @return empty when the device has not enrolled yet
     * @throws IOException when the files are unreadable or the key does not match the certificate
     */
    @Override
    public Optional<DeviceIdentity> load() throws IOException {
        Path current = dir.resolve(CURRENT);
        if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Path generation = dir.resolve(Files.readSymbolicLink(current));
        KeyPair keys = KeyFiles.readKeyPair(generation.resolve(KEY_FILE));
        List<X509Certificate> chain = KeyFiles.readCertificates(generation.resolve(CERTIFICATE_FILE));
        if (!KeyFiles.certifies(chain.get(0), keys.getPublic())) {
            throw new IOException("the key and the certificate in " + generation + " do not belong together");
        }
        return Optional.of(new DeviceIdentity(keys.getPrivate(), chain));
    }

    /**
     * The key for the next enrollment or renewal: the pending one if an earlier attempt left
     * it, otherwise a new EC P-256 key, written to disk before it is returned.
     */
    public KeyPair pendingKeyPair() throws IOException {
        return pendingKeyPair(DeviceKeyType.P256);
    }

    /**
     * As {@link #pendingKeyPair()}, a new key being of this kind. A pending key of another kind
     * (the setting changed between two attempts) is still the one sent: the request may already
     * be on the server.
     */
    @Override
    public KeyPair pendingKeyPair(DeviceKeyType type) throws IOException {
        createPrivateDirectory(dir);
        Path pending = createPrivateDirectory(dir.resolve(PENDING));
        Path keyFile = pending.resolve(KEY_FILE);
        if (Files.exists(keyFile)) {
            try {
                return KeyFiles.readKeyPair(keyFile);
            } catch (IOException unreadable) {
                Files.delete(keyFile); // cut short while being written; it was never sent, so make a new one
            }
        }
        KeyPair keys = KeyFiles.generateKeyPair(type);
        KeyFiles.writePrivateKey(keyFile, keys.getPrivate());
        syncDirectory(pending);
        return KeyFiles.readKeyPair(keyFile);
    }

    /**
     * Makes the pending key and its new certificate the current identity, and removes the one
     * it replaces.
     *
     * @param certificate   the certificate issued for the pending key
     * @param caCertificates the server's CA certificates; the ones between the device certificate
     *                       and a root go into the chain, all of them into {@value #CA_FILE}
     * @throws IOException when there is no pending key or the certificate is not for it
     */
    @Override
    public DeviceIdentity commit(X509Certificate certificate, List<X509Certificate> caCertificates) throws IOException {
        Path pending = dir.resolve(PENDING);
        KeyPair keys;
        try {
            keys = KeyFiles.readKeyPair(pending.resolve(KEY_FILE));
        } catch (NoSuchFileException e) {
            throw new IOException("there is no pending key in " + pending + " to go with the new certificate", e);
        }
        if (!KeyFiles.certifies(certificate, keys.getPublic())) {
            throw new IOException("the new certificate is not for the pending key in " + pending);
        }
        List<X509Certificate> chain = chainOf(certificate, caCertificates);
        Files.deleteIfExists(pending.resolve(CERTIFICATE_FILE)); // left by an interrupted commit; public data
        Files.deleteIfExists(pending.resolve(CA_FILE));
        Files.deleteIfExists(pending.resolve(KEY_STORE_FILE));
        KeyFiles.writeCertificates(pending.resolve(CERTIFICATE_FILE), chain);
        KeyFiles.writeCertificates(pending.resolve(CA_FILE), caCertificates);
        KeyFiles.writeKeyStore(pending.resolve(KEY_STORE_FILE), KEY_STORE_ALIAS, keys.getPrivate(), chain,
                keyStorePassword);
        syncDirectory(pending);

        Path generations = createPrivateDirectory(dir.resolve(GENERATIONS));
        Path generation = unusedName(generations, certificate.getSerialNumber().toString(16));
        Files.move(pending, generation, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(generations);

        Path current = dir.resolve(CURRENT);
        Optional<Path> previous = Files.exists(current, LinkOption.NOFOLLOW_LINKS)
                ? Optional.of(dir.resolve(Files.readSymbolicLink(current))) : Optional.empty();
        Path link = dir.resolve("." + CURRENT + "-" + System.nanoTime());
        Files.createSymbolicLink(link, dir.relativize(generation));
        Files.move(link, current, StandardCopyOption.ATOMIC_MOVE);
        for (String file : List.of(KEY_STORE_FILE, KEY_FILE, CERTIFICATE_FILE, CA_FILE)) {
            Path fixed = dir.resolve(file);
            if (!Files.exists(fixed, LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(fixed, Path.of(CURRENT, file));
            }
        }
        syncDirectory(dir);
        // The generation before stays as a fallback (its certificate is still valid); older ones go:
        // fewer copies of keys is safer.
        try (var old = Files.list(generations)) {
            for (Path g : old.toList()) {
                Path normal = g.normalize();
                if (!normal.equals(generation) && (previous.isEmpty() || !normal.equals(previous.get().normalize()))) {
                    deleteTree(g);
                }
            }
        }
        return new DeviceIdentity(keys.getPrivate(), chain);
    }

    /**
     * Drops the current identity (one that ended while the device was off), so the device can
     * enroll afresh. Its files stay until the next commit's clean-up: a device whose clock
     * jumped ahead loses nothing before a new identity is in place. Hold {@link #lock()}.
     */
    @Override
    public void forget() throws IOException {
        Path current = dir.resolve(CURRENT);
        if (Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(current);
            syncDirectory(dir);
        }
    }

    /**
     * Takes the directory for this process until the lock is closed, so two agents never
     * enroll or renew at once.
     *
     * @throws IOException when another process holds it
     */
    @Override
    public Lock lock() throws IOException {
        createPrivateDirectory(dir);
        FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE), java.util.Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.WRITE), KeyFiles.ownerOnly(dir.getFileSystem()));
        try {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw new IOException("another fleetkey-agent is working in " + dir + "; try again when it is done");
            }
            return new Lock(channel);
        } catch (OverlappingFileLockException e) {
            channel.close();
            throw new IOException("the identity directory " + dir + " is already in use by this process", e);
        }
    }

    /** Holds {@link #lock()} until closed. */
    public static final class Lock implements CredentialStore.Lock {
        private final FileChannel channel;

        private Lock(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** The device certificate followed by its issuers from the CA list, stopping before a root. */
    static List<X509Certificate> chainOf(X509Certificate certificate, List<X509Certificate> caCertificates) {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(certificate);
        X509Certificate last = certificate;
        while (chain.size() <= caCertificates.size()) {
            X509Certificate child = last;
            Optional<X509Certificate> issuer = caCertificates.stream()
                    .filter(ca -> ca.getSubjectX500Principal().equals(child.getIssuerX500Principal()))
                    .filter(ca -> !ca.getSubjectX500Principal().equals(ca.getIssuerX500Principal()))
                    .filter(ca -> !chain.contains(ca))
                    .findFirst();
            if (issuer.isEmpty()) {
                break;
            }
            chain.add(issuer.get());
            last = issuer.get();
        }
        return chain;
    }

    private static Path createPrivateDirectory(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return path;
        }
        FileAttribute<?>[] attributes = KeyFiles.isPosix(path.getFileSystem())
                ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
                : new FileAttribute<?>[0];
        Path parent = path.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent);
        }
        try {
            return Files.createDirectory(path, attributes);
        } catch (FileAlreadyExistsException e) {
            if (Files.isDirectory(path)) {
                return path;
            }
            throw e;
        }
    }

    private static Path unusedName(Path parent, String name) {
        Path candidate = parent.resolve(name);
        for (int i = 2; Files.exists(candidate, LinkOption.NOFOLLOW_LINKS); i++) {
            candidate = parent.resolve(name + "-" + i);
        }
        return candidate;
    }

    /** Makes a rename or create in the directory durable; a no-op where directories cannot be opened. */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not every platform can force a directory; the rename is still atomic there.
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
