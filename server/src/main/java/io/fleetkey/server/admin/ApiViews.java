package io.fleetkey.server.admin;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.Certificates;
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

    /** @param makerCas PEM texts, each with one or more CERTIFICATE blocks */
    @Serdeable
    public record GroupRequest(String name, @Nullable String profile, @Nullable List<String> makerCas,
                               @Nullable Boolean requireApproval, @Nullable List<String> allowedDnsNames) {
    }

    @Serdeable
    public record GroupPatch(@Nullable String profile, @Nullable List<String> makerCas,
                             @Nullable Boolean requireApproval, @Nullable List<String> allowedDnsNames) {
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
                            List<CertificateSummary> makerCas, Instant createdAt) {
        static GroupView of(EnrollmentGroup g) {
            return new GroupView(g.name(), g.profile(), g.requireApproval(), g.allowedDnsNames(),
                    g.makerCas().stream().map(CertificateSummary::of).toList(), g.createdAt());
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
    public record DeviceView(String deviceId, String group, String status, Instant createdAt, Instant updatedAt) {
        static DeviceView of(Device d) {
            return new DeviceView(d.deviceId(), d.group(), d.status().name(), d.createdAt(), d.updatedAt());
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
                                   List<CertificateView> certificates, List<EventView> events) {
        static DeviceDetailView of(FleetService.DeviceDetail d) {
            Device dev = d.device();
            return new DeviceDetailView(dev.deviceId(), dev.group(), dev.status().name(), dev.createdAt(),
                    dev.updatedAt(), dev.pendingKeySha256(), dev.approvedKeySha256(),
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
}
