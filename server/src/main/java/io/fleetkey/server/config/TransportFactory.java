package io.fleetkey.server.config;

import java.time.Clock;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.authority.CaKeystore;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.ServerIdentity;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.CertificateStatus;
import io.fleetkey.server.registry.IssuedCertificate;
import io.fleetkey.server.util.Digests;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** Credentials the doors need: the server's own TLS identity, recorded in the registry like every certificate. */
@Factory
public class TransportFactory {

    @Singleton
    ServerIdentity serverIdentity(FleetkeyConfiguration config, CaKeystore.IssuingCa ca, CertificateAuthority authority,
                                  CertificateRepository certificates, Clock clock) {
        return ServerIdentity.loadOrIssue(config.getDataDir(), ca.passphrase(), config.getTls().getHostnames(),
                authority, clock.instant(), cert -> certificates.insert(new IssuedCertificate(
                        cert.getSerialNumber().toString(16), null, cert.getSubjectX500Principal().getName(), "server",
                        Digests.sha256Hex(cert.getPublicKey().getEncoded()), cert.getNotBefore().toInstant(),
                        cert.getNotAfter().toInstant(), clock.instant(), CertificateStatus.GOOD, null, null,
                        Certificates.toDer(cert))));
    }
}
