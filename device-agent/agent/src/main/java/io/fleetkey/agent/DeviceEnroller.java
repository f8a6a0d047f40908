package io.fleetkey.agent;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The device's enrollment steps over one {@link EstHttpsClient}: fetch the CA certificates,
 * take the pending key, send the CSR, check what comes back, and make it the current identity
 * in the {@link IdentityDirectory}. Blocking; one enrollment at a time per directory (hold
 * {@link IdentityDirectory#lock()}).
 */
public final class DeviceEnroller {
    private final EstHttpsClient est;
    private final Set<TrustAnchor> anchors;
    private final IdentityDirectory directory;

    /**
     * @param est          the client; for {@link #renew()} its TLS context must present the current identity
     * @param trustAnchors the explicit trust anchors the issued certificate must chain to
     */
    public DeviceEnroller(EstHttpsClient est, List<X509Certificate> trustAnchors, IdentityDirectory directory) {
        this.est = Objects.requireNonNull(est, "est");
        this.anchors = trustAnchors.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toUnmodifiableSet());
        this.directory = Objects.requireNonNull(directory, "directory");
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
    }

    /**
     * First enrollment with a one-time token (RFC 7030 §4.2.1). Retrying after an I/O failure
     * or a 202 sends the same key again.
     *
     * @throws IllegalStateException when the directory already holds an identity: renew it instead
     */
    public DeviceIdentity enroll(String deviceId, String token)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        directory.load().ifPresent(existing -> {
            throw new IllegalStateException(directory.dir() + " already holds the identity of device '"
                    + existing.deviceId() + "' (valid until " + existing.notAfter() + ")");
        });
        List<X509Certificate> cas = est.caCertificates();
        KeyPair keys = directory.pendingKeyPair();
        X509Certificate certificate = est.simpleEnroll(KeyFiles.certificationRequest(keys, deviceId), deviceId, token);
        check(certificate, keys, deviceId, cas);
        return directory.commit(certificate, cas);
    }

    /**
     * Re-enrollment with a new key (RFC 7030 §4.2.2), authenticated by the current certificate
     * that the client's TLS context presents; the same subject, a fresh key.
     *
     * @throws IllegalStateException when the directory holds no identity yet: enroll first
     */
    public DeviceIdentity renew() throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        DeviceIdentity current = directory.load().orElseThrow(() ->
                new IllegalStateException(directory.dir() + " holds no identity yet; enroll first"));
        List<X509Certificate> cas = est.caCertificates();
        KeyPair keys = directory.pendingKeyPair();
        X509Certificate certificate = est.simpleReenroll(KeyFiles.certificationRequest(keys, current.deviceId()));
        check(certificate, keys, current.deviceId(), cas);
        return directory.commit(certificate, cas);
    }

    /** The server is trusted, but a certificate that cannot serve the device must not replace a working one. */
    private void check(X509Certificate certificate, KeyPair keys, String deviceId, List<X509Certificate> cas)
            throws EstException {
        if (!KeyFiles.certifies(certificate, keys.getPublic())) {
            throw new EstException(200, null, "the issued certificate is not for the key that was sent");
        }
        String cn = DeviceIdentity.commonName(certificate);
        if (!deviceId.equals(cn)) {
            throw new EstException(200, null, "the issued certificate names '" + cn + "', not device '" + deviceId + "'");
        }
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(certificate);
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
            parameters.setRevocationEnabled(false); // a certificate issued a moment ago; the CA answers for it
            parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(cas)));
            CertPathBuilder.getInstance("PKIX").build(parameters);
        } catch (GeneralSecurityException e) {
            throw new EstException(200, null, "the issued certificate does not chain to the trusted CA certificates: "
                    + e.getMessage());
        }
    }
}
