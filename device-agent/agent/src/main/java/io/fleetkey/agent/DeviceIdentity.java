package io.fleetkey.agent;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * The device's operational identity: its private key and certificate chain (the device
 * certificate first, then the CAs that issued it, up to but not including a root).
 * Immutable; {@link #toString()} never shows the key.
 */
public record DeviceIdentity(PrivateKey privateKey, List<X509Certificate> chain) {
    public DeviceIdentity {
        Objects.requireNonNull(privateKey, "privateKey");
        if (chain == null || chain.isEmpty()) {
            throw new IllegalArgumentException("an identity needs at least the device certificate");
        }
        chain = List.copyOf(chain);
    }

    /** The device certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The device id: the CN of the device certificate. */
    public String deviceId() {
        return commonName(certificate());
    }

    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /** Serial number in lower-case hex, as the server and its fleet API print it. */
    public String serialHex() {
        return certificate().getSerialNumber().toString(16);
    }

    /** The first CN of the certificate's subject, or an empty string when it has none. */
    public static String commonName(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] cns = subject.getRDNs(BCStyle.CN);
        return cns.length == 0 ? "" : IETFUtils.valueToString(cns[0].getFirst().getValue());
    }

    @Override
    public String toString() {
        return "DeviceIdentity[" + deviceId() + ", serial " + serialHex() + ", valid until " + notAfter() + "]";
    }
}
