package io.fleetkey.simulator.factory;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

import io.fleetkey.agent.FactoryIdentity;
import io.fleetkey.protocol.Certificates;

/**
 * A maker CA and one factory identity (IDevID, P-256) per device, made in memory for a storm:
 * what the {@code factory} tool writes to files, without the files. The storm registers the
 * maker CA with the devices' group, and each device proves itself on first boot with a
 * statement signed by its IDevID instead of a token.
 */
public final class IdevidBatch {
    private static final Validity TEN_YEARS = new Validity(10, 0, false);

    private final MakerCa maker;
    private final List<FactoryIdentity> identities;

    private IdevidBatch(MakerCa maker, List<FactoryIdentity> identities) {
        this.maker = maker;
        this.identities = identities;
    }

    /** A new maker CA named {@code maker} and an IDevID for each device id, in order. */
    public static IdevidBatch make(String maker, String[] deviceIds) {
        Instant now = Instant.now();
        MakerCa ca = MakerCa.create(maker, KeyType.P256, TEN_YEARS, now);
        List<FactoryIdentity> identities = IntStream.range(0, deviceIds.length).parallel().mapToObj(i -> {
            KeyPair keys = KeyType.P256.generate();
            X509Certificate idevid = ca.issue(deviceIds[i], keys.getPublic(), TEN_YEARS, null, now);
            return FactoryIdentity.of(keys.getPrivate(), List.of(idevid, ca.certificate()));
        }).toList();
        return new IdevidBatch(ca, identities);
    }

    /** The maker CA certificate, PEM, as the fleet API takes it for a group. */
    public String makerCaPem() {
        return Certificates.toPem(List.of(maker.certificate()));
    }

    /** The IDevID of the i-th device. */
    public FactoryIdentity identity(int index) {
        return identities.get(index);
    }
}
