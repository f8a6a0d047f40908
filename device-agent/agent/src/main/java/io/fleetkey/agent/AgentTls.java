package io.fleetkey.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.fleetkey.protocol.Certificates;

/**
 * TLS set-up for talking to the Fleetkey server. RFC 7030 §4.1.1 and §3.6.1: the device trusts
 * an explicit trust anchor it was given out of band (the Fleetkey CA chain), and nothing
 * else: neither the platform's CA bundle nor what the server sends.
 */
public final class AgentTls {
    private AgentTls() {
    }

    /**
     * Reads the explicit trust anchors from a PEM file of CERTIFICATE blocks.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException with a readable reason when it holds no usable certificate
     */
    public static List<X509Certificate> readTrustAnchors(Path pemFile) throws IOException {
        return Certificates.fromPem(Files.readString(pemFile, StandardCharsets.US_ASCII));
    }

    /** A context that authenticates the server against the anchors and presents no client certificate. */
    public static SSLContext trusting(List<X509Certificate> anchors) {
        return build(anchors, null);
    }

    /**
     * A context that authenticates the server against the anchors and presents the device's
     * identity as client certificate, read from the supplier at every handshake.
     */
    public static SSLContext trusting(List<X509Certificate> anchors, Supplier<DeviceIdentity> identity) {
        return build(anchors, new KeyManager[]{new IdentityKeyManager(identity)});
    }

    private static SSLContext build(List<X509Certificate> anchors, KeyManager[] keyManagers) {
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < anchors.size(); i++) {
                store.setCertificateEntry("anchor-" + i, anchors.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }
}
