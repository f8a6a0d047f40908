package io.fleetkey.server.transport.mqtt;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import io.fleetkey.server.authority.SecretFiles;
import io.fleetkey.server.authority.ServerIdentity;

/**
 * The embedded broker's folder, {@code <data-dir>/mqtt}: {@code conf/config.xml} (written at
 * every start; HiveMQ reads nothing else), {@code data/} (in-memory persistence leaves only an
 * instance id there), {@code extensions/} (empty: the one extension is in-process) and
 * {@code tls/} with the key store (the server's TLS key and chain) and the trust store (the CAs
 * whose client certificates the enrollment core may accept). Both stores are 0600 PKCS#12 under
 * a password drawn at every start that never touches the disk: config.xml names it as a
 * placeholder HiveMQ resolves from a system property set only while it starts.
 */
final class BrokerFiles {
    /** The system property HiveMQ's {@code ${...}} placeholder reads the store password from. */
    static final String PASSWORD_PROPERTY = "fleetkey.mqtt.store-password";
    private static final String KEY_ALIAS = "server";

    final Path root;
    final Path conf;
    final Path data;
    final Path extensions;
    final Path keystore;
    final Path truststore;
    private final char[] storePassword;
    private List<X509Certificate> trusted = List.of();

    BrokerFiles(Path dataDir) {
        this.root = dataDir.resolve("mqtt").toAbsolutePath().normalize();
        this.conf = root.resolve("conf");
        this.data = root.resolve("data");
        this.extensions = root.resolve("extensions");
        this.keystore = root.resolve("tls").resolve("keystore.p12");
        this.truststore = root.resolve("tls").resolve("truststore.p12");
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        this.storePassword = Base64.getUrlEncoder().withoutPadding().encodeToString(raw).toCharArray();
    }

    void createFolders() throws IOException {
        for (Path p : List.of(conf, data, extensions, keystore.getParent())) {
            Files.createDirectories(p);
        }
    }

    String storePassword() {
        return new String(storePassword);
    }

    /**
     * The server's key with its certificate and the issuing CA; the root stays out, as on the
     * other doors (devices pin it).
     */
    void writeKeystore(ServerIdentity identity) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = identity.chain().subList(0, Math.min(2, identity.chain().size()));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(KEY_ALIAS, identity.key(), storePassword, chain.toArray(Certificate[]::new));
        SecretFiles.write(keystore, store(ks));
    }

    /** Writes the trust store if the CAs changed; HiveMQ notices a changed file within 10 seconds. */
    synchronized boolean writeTruststore(List<X509Certificate> issuers) throws IOException, GeneralSecurityException {
        if (issuers.equals(trusted) && Files.exists(truststore)) {
            return false;
        }
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        for (int i = 0; i < issuers.size(); i++) {
            ts.setCertificateEntry("ca-" + i, issuers.get(i));
        }
        SecretFiles.write(truststore, store(ts));
        trusted = List.copyOf(issuers);
        return true;
    }

    void writeConfig(String xml) throws IOException {
        SecretFiles.write(conf.resolve("config.xml"), xml.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] store(KeyStore ks) throws IOException, GeneralSecurityException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, storePassword);
        return out.toByteArray();
    }
}
