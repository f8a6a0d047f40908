package io.fleetkey.server.admin;

import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.AttestationRecord;
import io.fleetkey.server.registry.AuditChain;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.Device;
import io.fleetkey.server.registry.EnrollmentGroup;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.registry.IssuedCertificate;
import io.fleetkey.server.util.Digests;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

/** JSON shapes of the fleet API, requests and answers. */
public final class ApiViews {
    private ApiViews() {
    }

    /**
     * @param makerCas  PEM texts, each with one or more CERTIFICATE blocks
     * @param makerCrls PEM texts, each with one or more X509 CRL blocks signed by a maker CA of the group
     */
    @Serdeable
    public record GroupRequest(String name, @Nullable String profile, @Nullable List<String> makerCas,
                               @Nullable Boolean requireApproval, @Nullable List<String> allowedDnsNames,
                               @Nullable List<String> makerCrls) {
    }

    /** A null field stays as it is; {@code makerCrls} replaces the group's maker CRLs. */
    @Serdeable
    public record GroupPatch(@Nullable String profile, @Nullable List<String> makerCas,
                             @Nullable Boolean requireApproval, @Nullable List<String> allowedDnsNames,
                             @Nullable List<String> makerCrls) {
    }

    @Serdeable
    public record CrlSummary(String issuer, Instant thisUpdate, @Nullable Instant nextUpdate, int revoked) {
        static CrlSummary of(X509CRL crl) {
            return new CrlSummary(crl.getIssuerX500Principal().getName(), crl.getThisUpdate().toInstant(),
                    crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant(),
                    crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size());
        }
    }

    @Serdeable
    public record DigestView(String component, String sha256, Instant addedAt, @Nullable String note,
                             @Nullable Instant withdrawnAt) {
    }

    /** A group's attestation policy and reference values; enum values in lower case. */
    @Serdeable
    public record AttestationView(String mode, String onWarning, boolean requireNonce, String restrictedProfile,
                                  List<String> allowedModels, @Nullable String minimumVersion, boolean debugAllowed,
                                  List<DigestView> allowedDigests) {
        static AttestationView of(AttestationPolicy p) {
            return new AttestationView(lower(p.mode()), lower(p.onWarning()), p.requireNonce(), p.restrictedProfile(),
                    p.allowedModels(), p.minimumVersion(), p.debugAllowed(), p.allowedDigests().stream()
                    .map(d -> new DigestView(d.component(), d.sha256(), d.addedAt(), d.note(), d.withdrawnAt())).toList());
        }
    }

    /**
     * Changes to a group's attestation policy; a null field stays as it is.
     *
     * @param mode           off, optional or required
     * @param onWarning      refuse, hold or restrict
     * @param minimumVersion dotted numbers, or "" for none
     */
    @Serdeable
    public record AttestationPatch(@Nullable String mode, @Nullable String onWarning, @Nullable Boolean requireNonce,
                                   @Nullable String restrictedProfile, @Nullable List<String> allowedModels,
                                   @Nullable String minimumVersion, @Nullable Boolean debugAllowed) {
    }

    /** An allowed digest of a measured component; {@code sha256} in hex, as sha256sum prints it. */
    @Serdeable
    public record DigestRequest(String component, String sha256, @Nullable String note) {
    }

    @Serdeable
    public record MeasurementView(String component, String sha256, @Nullable String version) {
    }

    /** One appraisal of a device's evidence. */
    @Serdeable
    public record AttestationRecordView(Instant appraisedAt, String operation, String result, String decision,
                                        List<String> reasons, @Nullable String hwModel, @Nullable String swName,
                                        @Nullable String swVersion, @Nullable String debug,
                                        List<MeasurementView> measurements, @Nullable String signer,
                                        @Nullable String serial) {
        static AttestationRecordView of(AttestationRecord r) {
            var e = r.evidence();
            return new AttestationRecordView(r.appraisedAt(), r.operation(), r.result().label(), lower(r.decision()),
                    r.reasons(), e.hwModel(), e.swName(), e.swVersion(), e.debug() == null ? null : e.debug().claimValue(),
                    e.measurements().stream().map(m -> new MeasurementView(m.component(), m.sha256(), m.version()))
                            .toList(), r.signer(), r.serial());
        }
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Serdeable
    public record CertificateSummary(String subject, String sha256, Instant notAfter) {
        static CertificateSummary of(X509Certificate c) {
            return new CertificateSummary(c.getSubjectX500Principal().getName(),
                    Digests.sha256Hex(Certificates.toDer(c)), c.getNotAfter().toInstant());
        }
    }

    @Serdeable
    public record GroupView(String name, String profile, boolean requireApproval, List<String> allowedDnsNames,
                            List<CertificateSummary> makerCas, List<CrlSummary> makerCrls, AttestationView attestation,
                            Instant createdAt) {
        static GroupView of(EnrollmentGroup g) {
            return new GroupView(g.name(), g.profile(), g.requireApproval(), g.allowedDnsNames(),
                    g.makerCas().stream().map(CertificateSummary::of).toList(),
                    g.makerCrls().stream().map(CrlSummary::of).toList(), AttestationView.of(g.attestation()),
                    g.createdAt());
        }
    }

    @Serdeable
    public record DeviceRequest(String deviceId, String group) {
    }

    @Serdeable
    public record BulkDeviceRequest(String group, List<String> deviceIds) {
    }

    @Serdeable
    public record RegistrationView(String deviceId, String group, String enrollmentToken, Instant tokenExpiresAt) {
        static RegistrationView of(FleetService.Registration r) {
            return new RegistrationView(r.deviceId(), r.group(), r.enrollmentToken(), r.tokenExpiresAt());
        }
    }

    @Serdeable
    public record BulkRegistrationView(int registered, List<RegistrationView> devices) {
    }

    @Serdeable
    public record DeviceView(String deviceId, String group, String status, Instant createdAt, Instant updatedAt,
                             @Nullable String attestation, @Nullable Instant attestedAt) {
        static DeviceView of(Device d) {
            return new DeviceView(d.deviceId(), d.group(), d.status().name(), d.createdAt(), d.updatedAt(),
                    d.attestation() == null ? null : d.attestation().label(), d.attestedAt());
        }
    }

    @Serdeable
    public record CertificateView(String serial, String subject, String profile, String status, Instant notBefore,
                                  Instant notAfter, Instant issuedAt, @Nullable Instant revokedAt,
                                  @Nullable String revocationReason) {
        static CertificateView of(IssuedCertificate c) {
            return new CertificateView(c.serialHex(), c.subject(), c.profile(), c.status().name(), c.notBefore(),
                    c.notAfter(), c.issuedAt(), c.revokedAt(),
                    c.revocationReason() == null ? null : c.revocationReason().rfcName());
        }
    }

    /** @param reason an RFC 5280 CRLReason name, e.g. keyCompromise */
    @Serdeable
    public record RevokeRequest(@Nullable String reason, @Nullable String note) {
    }

    /** The revoked device, and the certificates this revocation revoked. */
    @Serdeable
    public record RevocationView(String deviceId, String group, String status, Instant createdAt, Instant updatedAt,
                                 String reason, @Nullable String note, Instant revokedAt,
                                 List<String> revokedSerials) {
        static RevocationView of(FleetService.Revocation r) {
            Device d = r.device();
            return new RevocationView(d.deviceId(), d.group(), d.status().name(), d.createdAt(), d.updatedAt(),
                    r.revoked().reason().rfcName(), r.revoked().note(), r.revoked().revokedAt(),
                    r.revoked().revokedSerials());
        }
    }

    @Serdeable
    public record EventView(Instant at, String actor, String action, @Nullable String detail) {
        static EventView of(AuditEvent e) {
            return new EventView(e.occurredAt(), e.actor(), e.action(), e.detail());
        }
    }

    @Serdeable
    public record DeviceDetailView(String deviceId, String group, String status, Instant createdAt, Instant updatedAt,
                                   @Nullable String pendingKeySha256, @Nullable String approvedKeySha256,
                                   @Nullable String attestation, @Nullable Instant attestedAt,
                                   List<CertificateView> certificates, List<EventView> events) {
        static DeviceDetailView of(FleetService.DeviceDetail d) {
            Device dev = d.device();
            return new DeviceDetailView(dev.deviceId(), dev.group(), dev.status().name(), dev.createdAt(),
                    dev.updatedAt(), dev.pendingKeySha256(), dev.approvedKeySha256(),
                    dev.attestation() == null ? null : dev.attestation().label(), dev.attestedAt(),
                    d.certificates().stream().map(CertificateView::of).toList(),
                    d.events().stream().map(EventView::of).toList());
        }
    }

    @Serdeable
    public record PageView<T>(List<T> items, int page, int size, long total) {
    }

    @Serdeable
    public record ErrorView(String error, String message) {
    }

    /** A 409 of a revocation by attribute whose matched set changed: how many devices match now. */
    @Serdeable
    public record CountChangedView(String error, String message, int matched) {
    }

    /**
     * A revocation by attribute. Unknown fields are refused: a misspelt criterion silently left out
     * would widen the filter.
     */
    @Serdeable
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record BulkRevokeRequest(@Nullable RevocationFilterView filter, @Nullable String reason,
                                    @Nullable String note, @Nullable Boolean dryRun, @Nullable Integer expectedCount) {
    }

    @Serdeable
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record RevocationFilterView(@Nullable String group, @Nullable DigestFilterView digest,
                                       @Nullable String swVersion, @Nullable Instant enrolledFrom,
                                       @Nullable Instant enrolledTo, @Nullable List<String> deviceIds) {
    }

    @Serdeable
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record DigestFilterView(@Nullable String component, @Nullable String sha256) {
    }

    @Serdeable
    public record BulkRevocationView(boolean dryRun, int matched, int alreadyRevoked, List<String> sample, int revoked,
                                     int revokedSerials, String reason) {
        static BulkRevocationView of(FleetService.BulkRevocation r) {
            return new BulkRevocationView(r.dryRun(), r.matched(), r.alreadyRevoked(), r.sample(), r.revoked().size(),
                    r.revoked().stream().mapToInt(d -> d.revokedSerials().size()).sum(), r.reason().rfcName());
        }
    }

    /** An audit log entry; {@code occurredAt} in the chain's fixed form (UTC, six fractional digits). */
    @Serdeable
    public record AuditEntryView(long seq, String occurredAt, String actor, String action, @Nullable String deviceId,
                                 @Nullable String subject, @Nullable String outcome, @Nullable String detail,
                                 String hash) {
        static AuditEntryView of(AuditLog.AuditEntry entry) {
            AuditEvent e = entry.event();
            return new AuditEntryView(entry.seq(), AuditChain.timestamp(e.occurredAt()), e.actor(), e.action(),
                    e.deviceId(), e.subject(), e.outcome(), e.detail(), entry.hash());
        }
    }

    /** {@code next}: the {@code after} of the following page, null (left out) after the last one. */
    @Serdeable
    public record AuditPageView(List<AuditEntryView> items, @Nullable Long next) {
    }

    @Serdeable
    public record ChainHeadView(long seq, String hash) {
    }

    @Serdeable
    public record ChainBreakView(long seq, String problem, String message) {
    }

    /** The answer of a chain walk; {@code broken} is left out when {@code ok}. */
    @Serdeable
    public record VerificationView(boolean ok, long entries, ChainHeadView head, @Nullable ChainBreakView broken) {
        static VerificationView of(AuditChain.Verification v) {
            AuditChain.Break b = v.broken();
            return new VerificationView(v.ok(), v.entries(), new ChainHeadView(v.head().seq(), v.head().hash()),
                    b == null ? null : new ChainBreakView(b.seq(), b.problem().name().toLowerCase(Locale.ROOT),
                            b.message()));
        }
    }
}
