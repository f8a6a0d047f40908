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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import io.fleetkey.protocol.DeviceIds;
import org.bouncycastle.asn1.pkcs.Attribute;

/**
 * The device's enrollment steps over one {@link EstTransport} (HTTPS, CoAP/DTLS or MQTT): fetch
 * the CA certificates, take the pending key, build and send the CSR, check what comes back, and
 * make it the current identity in the {@link CredentialStore}. Blocking; one enrollment at a
 * time per store (hold {@link CredentialStore#lock()}).
 * <p>
 * Every CSR is built in {@link #certificationRequest}: subject CN = device id, the one-time token
 * as {@code challengePassword} on first enrollment, then what the {@link CsrAttributeSource}s add.
 */
public final class DeviceEnroller {
    private final EstTransport est;
    private final Set<TrustAnchor> anchors;
    private final CredentialStore directory;
    private final List<CsrAttributeSource> attributeSources;
    private DeviceKeyType keyType = DeviceKeyType.P256;

    /**
     * @param est          the transport; for {@link #renew()} it must present the current identity
     *                     in its TLS or DTLS handshake
     * @param trustAnchors the explicit trust anchors the issued certificate must chain to
     */
    public DeviceEnroller(EstTransport est, List<X509Certificate> trustAnchors, CredentialStore directory) {
        this(est, trustAnchors, directory, List.of());
    }

    /**
     * @param attributeSources add attributes to every CSR after the token, in this order
     *                         (attestation evidence, a device statement)
     */
    public DeviceEnroller(EstTransport est, List<X509Certificate> trustAnchors, CredentialStore directory,
                          List<CsrAttributeSource> attributeSources) {
        this.est = Objects.requireNonNull(est, "est");
        this.anchors = trustAnchors.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toUnmodifiableSet());
        this.directory = Objects.requireNonNull(directory, "directory");
        this.attributeSources = List.copyOf(attributeSources);
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
    }

    /** New keys are of this kind (EC P-256 unless set). */
    public DeviceEnroller withKeyType(DeviceKeyType type) {
        this.keyType = java.util.Objects.requireNonNull(type, "type");
        return this;
    }

    /**
     * First enrollment (RFC 7030 §4.2.1) with a one-time token, which travels in the CSR's
     * {@code challengePassword}, or with the factory identity's signed evidence of an
     * {@link AttestationSource} alone (token null), or both. Retrying after an I/O failure or a
     * pending answer sends the same key again.
     *
     * @throws IllegalArgumentException when the device id is invalid, or there is neither a token nor a factory identity
     * @throws IllegalStateException    when the directory already holds an identity: renew it instead
     */
    public DeviceIdentity enroll(String deviceId, String token)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        if (!DeviceIds.isValid(deviceId)) {
            throw new IllegalArgumentException("invalid device id: use " + DeviceIds.rule());
        }
        boolean factoryIdentity = attributeSources.stream()
                .anyMatch(s -> s instanceof AttestationSource a && a.hasFactoryIdentity());
        if ((token == null || token.isEmpty()) && !factoryIdentity) {
            throw new IllegalArgumentException("the enrollment token is empty, and there is no factory identity "
                    + "(IDevID) to enroll with instead");
        }
        directory.load().ifPresent(existing -> {
            throw new IllegalStateException(directory.location() + " already holds the identity of device '"
                    + existing.deviceId() + "' (valid until " + existing.notAfter() + ")");
        });
        List<X509Certificate> cas = est.caCertificates();
        KeyPair keys = directory.pendingKeyPair(keyType);
        X509Certificate certificate = est.simpleEnroll(
                certificationRequest(keys, deviceId, Optional.ofNullable(token).filter(t -> !t.isEmpty()),
                        Optional.empty()));
        check(certificate, keys, deviceId, cas);
        return directory.commit(certificate, cas);
    }

    /**
     * Re-enrollment with a new key (RFC 7030 §4.2.2), authenticated by the current certificate
     * that the transport presents; the same subject, a fresh key.
     *
     * @throws IllegalStateException when the directory holds no identity yet: enroll first
     */
    public DeviceIdentity renew() throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        DeviceIdentity current = directory.load().orElseThrow(() ->
                new IllegalStateException(directory.location() + " holds no identity yet; enroll first"));
        List<X509Certificate> cas = est.caCertificates();
        KeyPair keys = directory.pendingKeyPair(keyType);
        X509Certificate certificate = est.simpleReenroll(
                certificationRequest(keys, current.deviceId(), Optional.empty(), Optional.of(current)));
        check(certificate, keys, current.deviceId(), cas);
        return directory.commit(certificate, cas);
    }

    /** The one place a CSR is built: CN, the token if any, then the sources' attributes. */
    private byte[] certificationRequest(KeyPair keys, String deviceId, Optional<String> token,
                                        Optional<DeviceIdentity> current)
            throws EstException, IOException, InterruptedException {
        List<Attribute> attributes = new ArrayList<>();
        token.ifPresent(t -> attributes.add(KeyFiles.challengePassword(t)));
        CsrAttributeSource.Request request = new CsrAttributeSource.Request(deviceId, keys.getPublic(), current, est);
        for (CsrAttributeSource source : attributeSources) {
            attributes.addAll(source.attributes(request));
        }
        return KeyFiles.certificationRequest(keys, deviceId, attributes);
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
