package io.fleetkey.server.authority;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's own keys next to the CA's: one key entry per PKCS#12 file, encrypted under the
 * CA passphrase and written with {@link SecretFiles} (0600, replaced atomically).
 */
public final class KeyEntryFiles {
    /** A key and its chain, leaf first. */
    public record KeyEntry(PrivateKey key, List<X509Certificate> chain) {
    }

    private KeyEntryFiles() {
    }

    public static KeyEntry read(Path file, String alias, char[] passphrase) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, passphrase);
        }
        Certificate[] certificates = ks.getCertificateChain(alias);
        if (certificates == null) {
            throw new GeneralSecurityException(file + " has no key entry '" + alias + "'");
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : certificates) {
            chain.add((X509Certificate) c);
        }
        return new KeyEntry((PrivateKey) ks.getKey(alias, passphrase), List.copyOf(chain));
    }

    public static void write(Path file, String alias, PrivateKey key, List<X509Certificate> chain, char[] passphrase)
            throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(alias, key, passphrase, chain.toArray(Certificate[]::new));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, passphrase);
        SecretFiles.write(file, out.toByteArray());
    }
}
