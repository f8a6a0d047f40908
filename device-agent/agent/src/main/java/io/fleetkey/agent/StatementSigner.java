package io.fleetkey.agent;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * The key that signs a device statement and the certificate chain that goes with it into the
 * CSR's AttestationBundle (signer first). docs/attestation.md, "Who may sign the evidence": the
 * factory identity (IDevID) for a first enrollment, the device's current Fleetkey key and
 * certificate for a renewal. EC (P-256, P-384, P-521), RSA and Ed25519 keys sign.
 *
 * <p>Immutable; {@link #toString()} never shows the key.
 */
public record StatementSigner(PrivateKey privateKey, List<X509Certificate> chain) {
    public StatementSigner {
        Objects.requireNonNull(privateKey, "privateKey");
        if (chain == null || chain.isEmpty()) {
            throw new IllegalArgumentException("a statement signer needs at least its own certificate");
        }
        chain = List.copyOf(chain);
    }

    /** The factory identity: signs the statement of a first enrollment. */
    public static StatementSigner of(FactoryIdentity factory) {
        return factory.signer();
    }

    /** The device's current Fleetkey identity: signs the statement of a renewal. */
    public static StatementSigner of(DeviceIdentity current) {
        return new StatementSigner(current.privateKey(), current.chain());
    }

    /** The signer's certificate, the bundle's first. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    @Override
    public String toString() {
        return "StatementSigner[" + certificate().getSubjectX500Principal().getName() + ", serial "
                + certificate().getSerialNumber().toString(16) + "]";
    }
}
