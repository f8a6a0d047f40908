package io.fleetkey.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The device's factory identity (IDevID, IEEE 802.1AR): the key and certificate its maker put
 * on it, read from a PKCS#12 file such as {@code fleetkey-simulator factory issue} writes (alias
 * {@value #ALIAS}, the key, the IDevID certificate and the maker CA; docs/factory.md). It signs
 * the device statement of a first enrollment.
 *
 * <p>Immutable. Neither the key nor the password is ever logged, printed or kept: {@link
 * #toString()} names the certificate only, and the caller owns (and should clear) the password
 * array it passes in.
 */
public final class FactoryIdentity {
    /** The alias of the key entry in a factory PKCS#12 file. */
    public static final String ALIAS = "idevid";
    /** A factory key store is a few kilobytes; anything much bigger is not one. */
    private static final long MAX_FILE_BYTES = 1024 * 1024;

    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;

    private FactoryIdentity(PrivateKey privateKey, List<X509Certificate> chain) {
        this.privateKey = privateKey;
        this.chain = List.copyOf(chain);
    }

    /**
     * An IDevID held elsewhere than in a PKCS#12 file (a secure element's provider, a test or
     * simulator fleet): the key and its chain, device certificate first.
     *
     * @throws IllegalArgumentException when the chain is empty or its first certificate is not for the key
     */
    public static FactoryIdentity of(PrivateKey privateKey, List<X509Certificate> chain) {
        Objects.requireNonNull(privateKey, "privateKey");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("an IDevID needs its certificate");
        }
        if (!AttestedCsr.isPair(privateKey, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException("the IDevID certificate is not for this key");
        }
        return new FactoryIdentity(privateKey, chain);
    }

    /**
     * Reads the IDevID from a PKCS#12 file: the entry {@value #ALIAS}, or the file's only key
     * entry when it has no such alias. The key is protected by the same password as the file.
     *
     * @param password the password the maker provisioned; not kept, not cleared
     * @throws WrongPasswordException when the password does not open the file or its key
     * @throws IOException            when the file is missing or unreadable, is not a PKCS#12 key
     *                                store, or holds no (or more than one unnamed) key entry;
     *                                the message names the file and says which
     */
    public static FactoryIdentity load(Path file, char[] password) throws IOException {
        Objects.requireNonNull(password, "password");
        byte[] bytes = read(file);
        KeyStore store;
        try {
            store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new WrongPasswordException(file);
            }
            throw new IOException(file + " is not a PKCS#12 key store (" + e.getMessage() + ")", e);
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " cannot be read as PKCS#12: " + e.getMessage(), e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        try {
            String alias = keyAlias(store, file);
            KeyStore.Entry entry = store.getEntry(alias, new KeyStore.PasswordProtection(password));
            if (!(entry instanceof KeyStore.PrivateKeyEntry keyEntry)) {
                throw new IOException(file + ": the entry '" + alias + "' holds no private key");
            }
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : keyEntry.getCertificateChain()) {
                if (!(c instanceof X509Certificate x509)) {
                    throw new IOException(file + ": the entry '" + alias + "' holds a " + c.getType()
                            + " certificate; an IDevID is X.509");
                }
                chain.add(x509);
            }
            if (!AttestedCsr.isPair(keyEntry.getPrivateKey(), chain.get(0).getPublicKey())) {
                throw new IOException(file + ": the certificate of entry '" + alias + "' is not for its key");
            }
            return new FactoryIdentity(keyEntry.getPrivateKey(), chain);
        } catch (UnrecoverableKeyException e) {
            throw new WrongPasswordException(file);
        } catch (GeneralSecurityException e) {
            throw new IOException(file + ": the IDevID key cannot be read: " + e.getMessage(), e);
        }
    }

    /** The IDevID's private key. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The IDevID certificate first, then the maker CA certificates the file carries. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The IDevID certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** Signs device statements with this identity (first enrollment). */
    public StatementSigner signer() {
        return new StatementSigner(privateKey, chain);
    }

    @Override
    public String toString() {
        X509Certificate c = certificate();
        return "FactoryIdentity[" + c.getSubjectX500Principal().getName() + ", serial "
                + c.getSerialNumber().toString(16) + ", issued by " + c.getIssuerX500Principal().getName() + "]";
    }

    private static byte[] read(Path file) throws IOException {
        try {
            if (!Files.isRegularFile(file)) {
                throw new IOException("the factory identity " + file + " is not a regular file");
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IOException(file + " is too big for a factory identity (" + Files.size(file) + " bytes)");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("the factory identity " + file + " does not exist", e);
        }
    }

    private static String keyAlias(KeyStore store, Path file) throws GeneralSecurityException, IOException {
        if (store.isKeyEntry(ALIAS)) {
            return ALIAS;
        }
        List<String> keyAliases = new ArrayList<>();
        for (String alias : Collections.list(store.aliases())) {
            if (store.isKeyEntry(alias)) {
                keyAliases.add(alias);
            }
        }
        if (keyAliases.isEmpty()) {
            throw new IOException(file + " holds no key entry; a factory identity holds the IDevID key under alias '"
                    + ALIAS + "'");
        }
        if (keyAliases.size() > 1) {
            throw new IOException(file + " holds " + keyAliases.size() + " key entries " + keyAliases
                    + " and none is named '" + ALIAS + "'");
        }
        return keyAliases.get(0);
    }

    /** The password does not open the factory identity. Its message names the file, never the password. */
    public static final class WrongPasswordException extends IOException {
        private static final long serialVersionUID = 1L;

        public WrongPasswordException(Path file) {
            super("the password does not open the factory identity " + file
                    + "; use the password the device maker provisioned");
        }
    }
}
