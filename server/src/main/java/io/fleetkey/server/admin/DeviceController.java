package io.fleetkey.server.admin;

import java.util.List;
import java.util.Locale;

import io.fleetkey.server.admin.ApiViews.AttestationRecordView;
import io.fleetkey.server.admin.ApiViews.BulkDeviceRequest;
import io.fleetkey.server.admin.ApiViews.BulkRegistrationView;
import io.fleetkey.server.admin.ApiViews.DeviceDetailView;
import io.fleetkey.server.admin.ApiViews.DeviceRequest;
import io.fleetkey.server.admin.ApiViews.DeviceView;
import io.fleetkey.server.admin.ApiViews.PageView;
import io.fleetkey.server.admin.ApiViews.RegistrationView;
import io.fleetkey.server.admin.ApiViews.RevocationView;
import io.fleetkey.server.admin.ApiViews.RevokeRequest;
import io.fleetkey.server.registry.AttestationResult;
import io.fleetkey.server.registry.DeviceFilter;
import io.fleetkey.server.registry.DeviceStatus;
import io.fleetkey.server.registry.FleetException;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.registry.RevocationReason;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Status;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Devices: registration (one or bulk), listing, detail with certificate history, approval, revocation. */
@Controller("/api/v1/devices")
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "Devices")
@SecurityRequirement(name = "bearer")
public class DeviceController {
    private final FleetService fleet;

    public DeviceController(FleetService fleet) {
        this.fleet = fleet;
    }

    @Operation(summary = "Register a device; the answer holds its one-time enrollment token, shown only this once")
    @Post
    public HttpResponse<RegistrationView> register(HttpRequest<?> request, @Body DeviceRequest body) {
        if (body.deviceId() == null || body.group() == null) {
            throw new FleetException(FleetException.Kind.INVALID, "send {\"deviceId\": \"...\", \"group\": \"...\"}");
        }
        var registered = fleet.register(List.of(body.deviceId()), body.group(), Actors.of(request));
        return HttpResponse.created(RegistrationView.of(registered.get(0)));
    }

    @Operation(summary = "Register many devices of one group at once (all or none), each with its one-time token")
    @Post("/bulk")
    public HttpResponse<BulkRegistrationView> registerBulk(HttpRequest<?> request, @Body BulkDeviceRequest body) {
        if (body.group() == null || body.deviceIds() == null) {
            throw new FleetException(FleetException.Kind.INVALID,
                    "send {\"group\": \"...\", \"deviceIds\": [\"...\", ...]}");
        }
        var registered = fleet.register(body.deviceIds(), body.group(), Actors.of(request));
        return HttpResponse.created(new BulkRegistrationView(registered.size(),
                registered.stream().map(RegistrationView::of).toList()));
    }

    @Operation(summary = "List devices, filtered by group, status, id prefix or current attestation result, a page at a time")
    @Get
    public PageView<DeviceView> list(@Nullable @QueryValue String group, @Nullable @QueryValue String status,
                                     @Nullable @QueryValue String idPrefix, @Nullable @QueryValue String attestation,
                                     @QueryValue(defaultValue = "0") int page,
                                     @QueryValue(defaultValue = "100") int size) {
        DeviceStatus statusFilter = null;
        if (status != null) {
            try {
                statusFilter = DeviceStatus.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new FleetException(FleetException.Kind.INVALID, "status must be one of "
                        + List.of(DeviceStatus.values()));
            }
        }
        AttestationResult attestationFilter = null;
        if (attestation != null) {
            try {
                attestationFilter = AttestationResult.valueOf(attestation.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                attestationFilter = null;
            }
            if (attestationFilter == null || attestationFilter == AttestationResult.UNVERIFIED) {
                throw new FleetException(FleetException.Kind.INVALID,
                        "attestation must be one of affirming, warning, contraindicated");
            }
        }
        var result = fleet.devices(new DeviceFilter(group, statusFilter, idPrefix, attestationFilter), page, size);
        return new PageView<>(result.items().stream().map(DeviceView::of).toList(), result.page(), result.size(),
                result.total());
    }

    @Operation(summary = "Show a device with its certificate history and recent events")
    @Get("/{deviceId}")
    public DeviceDetailView show(String deviceId) {
        return DeviceDetailView.of(fleet.deviceDetail(deviceId));
    }

    @Operation(summary = "A device's attestation history: each appraisal of its evidence, newest first")
    @Get("/{deviceId}/attestations")
    public PageView<AttestationRecordView> attestations(String deviceId, @QueryValue(defaultValue = "0") int page,
                                                        @QueryValue(defaultValue = "20") int size) {
        if (page < 0 || size < 1 || size > 1000) {
            throw new FleetException(FleetException.Kind.INVALID, "page must be 0 or more and size 1 to 1000");
        }
        var result = fleet.attestationHistory(deviceId, page, size);
        return new PageView<>(result.items().stream().map(AttestationRecordView::of).toList(), result.page(),
                result.size(), result.total());
    }

    @Operation(summary = "Approve the key a device waits with (groups that require approval)")
    @Post("/{deviceId}/approve")
    public DeviceView approve(HttpRequest<?> request, String deviceId) {
        return DeviceView.of(fleet.approve(deviceId, Actors.of(request)));
    }

    @Operation(summary = "Revoke a device for good: it and all its certificates, with an RFC 5280 reason")
    @Post("/{deviceId}/revoke")
    public RevocationView revoke(HttpRequest<?> request, String deviceId, @Nullable @Body RevokeRequest body) {
        if (body == null) {
            throw new FleetException(FleetException.Kind.INVALID, "send {\"reason\": \"<one of "
                    + RevocationReason.names() + ">\", \"note\": \"...\"}");
        }
        return RevocationView.of(fleet.revoke(deviceId, RevocationReason.parse(body.reason()), body.note(),
                Actors.of(request)));
    }

    @Operation(summary = "Ask an enrolled device to renew its certificate now (a notice on its MQTT events topic)")
    @Post("/{deviceId}/renew-now")
    @Status(HttpStatus.ACCEPTED)
    public DeviceView renewNow(HttpRequest<?> request, String deviceId) {
        return DeviceView.of(fleet.requestRenewal(deviceId, Actors.of(request)));
    }

    @Operation(summary = "Issue a new one-time enrollment token (the previous one stops working)")
    @Post("/{deviceId}/enrollment-token")
    public HttpResponse<RegistrationView> newToken(HttpRequest<?> request, String deviceId) {
        return HttpResponse.created(RegistrationView.of(fleet.newEnrollmentToken(deviceId, Actors.of(request))));
    }
}
