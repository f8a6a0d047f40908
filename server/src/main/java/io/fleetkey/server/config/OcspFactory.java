package io.fleetkey.server.config;

import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.time.Clock;
import java.util.concurrent.ExecutorService;

import io.fleetkey.server.authority.CaKeystore;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.metrics.FleetMetrics;
import io.fleetkey.server.ocsp.OcspResponder;
import io.fleetkey.server.ocsp.OcspSigning;
import io.fleetkey.server.ocsp.SigningThreads;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.CertificateRepository;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import org.bouncycastle.cert.X509CertificateHolder;

/** Builds the OCSP responder and its delegated signer from configuration (docs/revocation.md). */
@Factory
public class OcspFactory {
    /** The registry's profile name for the OCSP signing certificates. */
    public static final String SIGNER_PROFILE = "ocsp-signer";

    @Singleton
    OcspSigning ocspSigning(FleetkeyConfiguration config, CaKeystore.IssuingCa ca, CertificateAuthority authority,
                            CryptoProvider provider, CertificateRepository certificates, Clock clock) {
        FleetkeyConfiguration.Ocsp ocsp = config.getOcsp();
        ocsp.check();
        OcspSigning signing = new OcspSigning(new OcspSigning.Settings(
                config.getDataDir().resolve("ca").resolve("ocsp-signer.p12"), ca.passphrase(),
                ocsp.getSignerValidity(), ocsp.getSignerRenewBefore()), authority, provider,
                cert -> TransportFactory.record(certificates, cert, clock, SIGNER_PROFILE));
        signing.renewIfDue(clock.instant()); // a failure stops the start: the AIA URL must answer
        return signing;
    }

    @Singleton
    @Bean(preDestroy = "close")
    SigningThreads ocspSigningThreads(FleetkeyConfiguration config) {
        return new SigningThreads(Runtime.getRuntime().availableProcessors(), config.getOcsp().getMaxQueued());
    }

    @Singleton
    OcspResponder ocspResponder(FleetkeyConfiguration config, OcspSigning signing, CertificateAuthority authority,
                                CertificateRepository certificates, Clock clock, FleetMetrics metrics,
                                AuditLog audit, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        FleetkeyConfiguration.Ocsp ocsp = config.getOcsp();
        try {
            return new OcspResponder(certificates, signing, new X509CertificateHolder(authority.chain().get(0).getEncoded()),
                    clock, new OcspResponder.Settings(ocsp.getNextUpdate(), ocsp.getCacheTime(), ocsp.getMaxCertificates()),
                    metrics::ocspAnswered, audit, blocking);
        } catch (IOException | CertificateEncodingException e) {
            throw new IllegalStateException("the issuing CA certificate cannot be encoded", e);
        }
    }
}
