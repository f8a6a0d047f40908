package io.fleetkey.server.admin;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.admin.ApiViews.AttestationPatch;
import io.fleetkey.server.admin.ApiViews.AttestationView;
import io.fleetkey.server.admin.ApiViews.DigestRequest;
import io.fleetkey.server.admin.ApiViews.GroupPatch;
import io.fleetkey.server.admin.ApiViews.GroupRequest;
import io.fleetkey.server.admin.ApiViews.GroupView;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.FleetException;
import io.fleetkey.server.registry.FleetService;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Enrollment groups: profile, maker CAs (IDevID trust anchors), approval and DNS policy. */
@Controller("/api/v1/groups")
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "Groups")
@SecurityRequirement(name = "bearer")
public class GroupController {
    private final FleetService fleet;

    public GroupController(FleetService fleet) {
        this.fleet = fleet;
    }

    @Operation(summary = "Create a group")
    @Post
    public HttpResponse<GroupView> create(HttpRequest<?> request, @Body GroupRequest body) {
        var group = fleet.createGroup(body.name(), new FleetService.GroupChange(body.profile(),
                parseCas(body.makerCas()), body.requireApproval(), body.allowedDnsNames(), parseCrls(body.makerCrls())),
                Actors.of(request));
        return HttpResponse.created(GroupView.of(group));
    }

    @Operation(summary = "List groups")
    @Get
    public List<GroupView> list() {
        return fleet.groups().stream().map(GroupView::of).toList();
    }

    @Operation(summary = "Show a group")
    @Get("/{name}")
    public GroupView show(String name) {
        return GroupView.of(fleet.group(name));
    }

    @Operation(summary = "Change a group's profile, maker CAs, maker CRLs, approval or DNS policy")
    @Patch("/{name}")
    public GroupView update(HttpRequest<?> request, String name, @Body GroupPatch body) {
        return GroupView.of(fleet.updateGroup(name, new FleetService.GroupChange(body.profile(),
                parseCas(body.makerCas()), body.requireApproval(), body.allowedDnsNames(), parseCrls(body.makerCrls())),
                Actors.of(request)));
    }

    @Operation(summary = "Show a group's attestation policy and reference values")
    @Get("/{name}/attestation")
    public AttestationView attestation(String name) {
        return AttestationView.of(fleet.group(name).attestation());
    }

    @Operation(summary = "Change a group's attestation policy: mode, what a warning leads to, nonce, models, "
            + "minimum version, debug")
    @Patch("/{name}/attestation")
    public AttestationView updateAttestation(HttpRequest<?> request, String name, @Body AttestationPatch body) {
        var change = new FleetService.AttestationChange(
                parse(AttestationPolicy.Mode.class, "mode", body.mode()),
                parse(AttestationPolicy.OnWarning.class, "onWarning", body.onWarning()), body.requireNonce(),
                body.restrictedProfile(), body.allowedModels(), body.minimumVersion(), body.debugAllowed());
        return AttestationView.of(fleet.updateAttestation(name, change, Actors.of(request)).attestation());
    }

    @Operation(summary = "Allow a digest for a measured component (a reference value)")
    @Post("/{name}/attestation/digests")
    public HttpResponse<AttestationView> addDigest(HttpRequest<?> request, String name, @Body DigestRequest body) {
        return HttpResponse.created(AttestationView.of(fleet.addDigest(name, body.component(), body.sha256(),
                body.note(), Actors.of(request)).attestation()));
    }

    @Operation(summary = "Withdraw an allowed digest: devices still reporting it fail their next renewal")
    @Delete("/{name}/attestation/digests")
    public AttestationView removeDigest(HttpRequest<?> request, String name, @QueryValue String component,
                                        @QueryValue String sha256) {
        return AttestationView.of(fleet.removeDigest(name, component, sha256, Actors.of(request)).attestation());
    }

    private static <E extends Enum<E>> @Nullable E parse(Class<E> type, String field, @Nullable String value) {
        if (value == null) {
            return null;
        }
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new FleetException(FleetException.Kind.INVALID, field + " must be one of "
                    + java.util.Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(java.util.Locale.ROOT))
                    .toList());
        }
    }

    private static @Nullable List<X509CRL> parseCrls(@Nullable List<String> pems) {
        if (pems == null) {
            return null;
        }
        List<X509CRL> crls = new ArrayList<>();
        for (int i = 0; i < pems.size(); i++) {
            String pem = pems.get(i);
            if (pem == null || !pem.contains("-----BEGIN X509 CRL-----")) {
                throw new FleetException(FleetException.Kind.INVALID, "makerCrls[" + i
                        + "] must be PEM with '-----BEGIN X509 CRL-----' blocks");
            }
            try {
                for (var crl : CertificateFactory.getInstance("X.509").generateCRLs(
                        new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                    crls.add((X509CRL) crl);
                }
            } catch (CRLException | CertificateException | RuntimeException e) {
                throw new FleetException(FleetException.Kind.INVALID, "makerCrls[" + i + "] is not a CRL: "
                        + e.getMessage());
            }
        }
        return crls;
    }

    private static @Nullable List<X509Certificate> parseCas(@Nullable List<String> pems) {
        if (pems == null) {
            return null;
        }
        List<X509Certificate> cas = new ArrayList<>();
        for (int i = 0; i < pems.size(); i++) {
            try {
                cas.addAll(Certificates.fromPem(pems.get(i)));
            } catch (IllegalArgumentException e) {
                throw new FleetException(FleetException.Kind.INVALID, "makerCas[" + i + "]: " + e.getMessage());
            }
        }
        return cas;
    }
}
