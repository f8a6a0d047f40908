package io.fleetkey.server.admin;

import io.fleetkey.server.admin.ApiViews.BulkRevocationView;
import io.fleetkey.server.admin.ApiViews.BulkRevokeRequest;
import io.fleetkey.server.admin.ApiViews.RevocationFilterView;
import io.fleetkey.server.registry.FleetException;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.registry.RevocationFilter;
import io.fleetkey.server.registry.RevocationReason;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;

/** Revocation by attribute: many devices at once, with a dry run first. */
@Controller("/api/v1/revocations")
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "Devices")
@SecurityRequirement(name = "bearer")
public class RevocationController {
    private static final String SHAPE = "send {\"filter\": {\"group\", \"digest\": {\"component\", \"sha256\"}, "
            + "\"swVersion\", \"enrolledFrom\", \"enrolledTo\", \"deviceIds\"}, \"reason\", \"note\", \"dryRun\", "
            + "\"expectedCount\"} with at least one filter field";

    private final FleetService fleet;

    public RevocationController(FleetService fleet) {
        this.fleet = fleet;
    }

    @Operation(summary = "Revoke every device a filter matches (group, firmware digest, software version, "
            + "enrollment dates, a list of ids); dryRun shows the count and a sample and changes nothing")
    @Post
    public BulkRevocationView revoke(HttpRequest<?> request, @Nullable @Body BulkRevokeRequest body) {
        if (body == null || body.filter() == null) {
            throw new FleetException(FleetException.Kind.INVALID, SHAPE);
        }
        if (body.expectedCount() != null && body.expectedCount() < 0) {
            throw new FleetException(FleetException.Kind.INVALID, "expectedCount must be 0 or more");
        }
        RevocationFilterView f = body.filter();
        RevocationFilter filter = new RevocationFilter(f.group(),
                f.digest() == null ? null : f.digest().component(),
                f.digest() == null ? null : requireSha256(f.digest().sha256()),
                f.swVersion(), f.enrolledFrom(), f.enrolledTo(), f.deviceIds());
        return BulkRevocationView.of(fleet.revokeMatching(filter, RevocationReason.parse(body.reason()), body.note(),
                Boolean.TRUE.equals(body.dryRun()), body.expectedCount(), Actors.of(request)));
    }

    private static String requireSha256(String sha256) {
        if (sha256 == null) {
            throw new FleetException(FleetException.Kind.INVALID, "digest needs sha256 (64 lower-case hex digits)");
        }
        return sha256;
    }
}
