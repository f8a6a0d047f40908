package io.fleetkey.agent;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.Evidence;
import org.bouncycastle.asn1.pkcs.Attribute;

/**
 * Puts attestation evidence into every CSR the enroller sends: a fresh nonce from the door's
 * nonce operation, the device's claims ({@link EvidenceSource}), signed by the factory identity
 * on first enrollment and by the current Fleetkey key on renewal. A device without a factory
 * identity (a token device) sends evidence on renewals only. With no evidence source, the
 * statement still proves the request's origin and freshness: what a renewal through an
 * external MQTT broker needs.
 */
public final class AttestationSource implements CsrAttributeSource {
    private final Optional<FactoryIdentity> factory;
    private final Optional<EvidenceSource> evidence;
    private final Clock clock;

    public AttestationSource(Optional<FactoryIdentity> factory, Optional<EvidenceSource> evidence, Clock clock) {
        this.factory = factory;
        this.evidence = evidence;
        this.clock = clock;
    }

    /** Whether a first enrollment can be authenticated by this source's statement alone (no token). */
    public boolean hasFactoryIdentity() {
        return factory.isPresent();
    }

    @Override
    public List<Attribute> attributes(Request request) throws EstException, IOException, InterruptedException {
        Optional<StatementSigner> signer = request.current().map(StatementSigner::of)
                .or(() -> factory.map(StatementSigner::of));
        if (signer.isEmpty()) {
            return List.of();
        }
        String nonce = request.transport().nonce().value();
        Evidence claims = evidence.isPresent() ? evidence.get().collect() : Evidence.NONE;
        return List.of(AttestedCsr.attribute(request.deviceId(), request.newKey(), signer.get(),
                nonce.isEmpty() ? null : nonce, claims, clock));
    }
}
