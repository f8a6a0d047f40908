package io.fleetkey.server.config;

import java.security.cert.X509Certificate;
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
import io.micronaut.context.annotation.Primary;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

/** Credentials the doors need: the server's own TLS identity, recorded in the registry like every certificate. */
@Factory
public class TransportFactory {

    /** The name of the server's MQTT client certificate (for external brokers that require one). */
    public static final String MQTT_CLIENT = "mqtt-client";

    @Singleton
    @Primary
    ServerIdentity serverIdentity(FleetkeyConfiguration config, CaKeystore.IssuingCa ca, CertificateAuthority authority,
                                  CertificateRepository certificates, Clock clock) {
        return ServerIdentity.loadOrIssue(config.getDataDir(), ca.passphrase(), config.getTls().getHostnames(),
                authority, clock.instant(), cert -> record(certificates, cert, clock, "server"));
    }

    @Singleton
    @Named(MQTT_CLIENT)
    ServerIdentity mqttClientIdentity(FleetkeyConfiguration config, CaKeystore.IssuingCa ca,
                                      CertificateAuthority authority, CertificateRepository certificates, Clock clock) {
        return ServerIdentity.loadOrIssueMqttClient(config.getDataDir(), ca.passphrase(), authority, clock.instant(),
                cert -> record(certificates, cert, clock, "server"));
    }

    /** Records one of the server's own certificates (no device) under the given profile name. */
    static void record(CertificateRepository certificates, X509Certificate cert, Clock clock, String profile) {
        certificates.insert(new IssuedCertificate(
                cert.getSerialNumber().toString(16), null, cert.getSubjectX500Principal().getName(), profile,
                Digests.sha256Hex(cert.getPublicKey().getEncoded()), cert.getNotBefore().toInstant(),
                cert.getNotAfter().toInstant(), clock.instant(), CertificateStatus.GOOD, null, null,
                Certificates.toDer(cert)));
    }
}
