package io.fleetkey.server.config;

import java.time.Clock;
import java.util.List;

import io.fleetkey.server.authority.CaKeystore;
import io.fleetkey.server.authority.CaSigner;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CrlPublisher;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.authority.SoftwareCaSigner;
import io.fleetkey.server.enrollment.EnrollmentObserver;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.FreshnessNonces;
import io.fleetkey.server.policy.KeyPolicy;
import io.fleetkey.server.policy.ProfileCatalog;
import io.fleetkey.server.registry.AttestationHistory;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.CrlNumbers;
import io.fleetkey.server.registry.DeviceRepository;
import io.fleetkey.server.events.DeviceNotice;
import io.fleetkey.server.registry.DeviceRevoked;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.registry.GroupRepository;
import io.fleetkey.server.registry.NonceRepository;
import io.fleetkey.server.registry.TokenRepository;
import io.fleetkey.server.registry.Transactions;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.ApplicationEventPublisher;
import jakarta.inject.Singleton;

/** Builds the framework-free core from configuration: the only place the core meets Micronaut. */
@Factory
public class CoreFactory {

    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }

    @Singleton
    CryptoProvider cryptoProvider(FleetkeyConfiguration config) {
        return CryptoProvider.named(config.getCryptoProvider());
    }

    @Singleton
    KeyPolicy keyPolicy(FleetkeyConfiguration config) {
        return new KeyPolicy(config.getMinRsaBits());
    }

    @Singleton
    ProfileCatalog profileCatalog(List<ProfileConfiguration> profiles) {
        if (profiles.isEmpty()) {
            throw new IllegalStateException("no certificate profile is configured under fleetkey.profiles");
        }
        return new ProfileCatalog(profiles.stream().map(ProfileConfiguration::toProfile).toList());
    }

    @Singleton
    CaKeystore.IssuingCa issuingCa(FleetkeyConfiguration config, CryptoProvider provider, Clock clock) {
        FleetkeyConfiguration.Ca ca = config.getCa();
        return CaKeystore.loadOrCreate(new CaKeystore.Settings(config.getDataDir(), ca.getPassword(),
                ca.getIssuingCurve(), ca.getImportPkcs12(), ca.getImportPkcs12Password(),
                ca.getImportCertificateChain(), ca.getImportPrivateKey(), ca.getImportPrivateKeyPassword()),
                provider, clock.instant());
    }

    @Singleton
    CaSigner caSigner(CaKeystore.IssuingCa ca, CryptoProvider provider) {
        return new SoftwareCaSigner(ca.key(), ca.chain(), provider);
    }

    @Singleton
    CertificateAuthority certificateAuthority(CaSigner signer, FleetkeyConfiguration config,
                                              @Value("${micronaut.server.ssl.port:8443}") int httpsPort) {
        return new CertificateAuthority(signer, config.publicBaseUrlOr(httpsPort));
    }

    @Singleton
    CrlPublisher crlPublisher(CertificateAuthority authority, CertificateRepository certificates, CrlNumbers numbers,
                              Transactions transactions, Clock clock, FleetkeyConfiguration config) {
        config.getCrl().check();
        return new CrlPublisher(authority, certificates, numbers, transactions, clock,
                config.getDataDir().resolve("crl"), config.getCrl().getNextUpdate());
    }

    @Singleton
    EnrollmentService enrollmentService(CertificateAuthority authority, ProfileCatalog profiles, KeyPolicy keyPolicy,
                                        CryptoProvider provider, DeviceRepository devices, GroupRepository groups,
                                        CertificateRepository certificates, TokenRepository tokens, AuditLog audit,
                                        Transactions transactions, Clock clock, FleetkeyConfiguration config,
                                        FreshnessNonces nonces, AttestationHistory attestations,
                                        EnrollmentObserver observer) {
        FleetkeyConfiguration.Enrollment e = config.getEnrollment();
        return new EnrollmentService(authority, profiles, keyPolicy, provider, devices, groups, certificates, tokens,
                audit, transactions, clock, new EnrollmentService.Settings(e.getRetryWindow(), e.getApprovalRetryAfter()),
                nonces, attestations, observer);
    }

    @Singleton
    FreshnessNonces freshnessNonces(NonceRepository repository, Clock clock, FleetkeyConfiguration config,
                                    EnrollmentObserver observer) {
        return new FreshnessNonces(repository, clock, config.getEnrollment().getNonceLifetime(),
                config.getEnrollment().getNonceRate(), observer);
    }

    @Singleton
    FleetService fleetService(GroupRepository groups, DeviceRepository devices, TokenRepository tokens,
                              CertificateRepository certificates, AuditLog audit, Transactions transactions,
                              ProfileCatalog profiles, Clock clock, FleetkeyConfiguration config,
                              ApplicationEventPublisher<DeviceRevoked> revocations,
                              ApplicationEventPublisher<DeviceNotice> notices, AttestationHistory attestations) {
        return new FleetService(groups, devices, tokens, certificates, audit, transactions, profiles, clock,
                config.getEnrollment().getTokenValidity(), revocations::publishEvent, notices::publishEvent,
                attestations);
    }
}
