package io.fleetkey.server.admin;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.admin.ApiViews.GroupPatch;
import io.fleetkey.server.admin.ApiViews.GroupRequest;
import io.fleetkey.server.admin.ApiViews.GroupView;
import io.fleetkey.server.registry.FleetException;
import io.fleetkey.server.registry.FleetService;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.Post;
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
                parseCas(body.makerCas()), body.requireApproval(), body.allowedDnsNames()), Actors.of(request));
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

    @Operation(summary = "Change a group's profile, maker CAs, approval or DNS policy")
    @Patch("/{name}")
    public GroupView update(HttpRequest<?> request, String name, @Body GroupPatch body) {
        return GroupView.of(fleet.updateGroup(name, new FleetService.GroupChange(body.profile(),
                parseCas(body.makerCas()), body.requireApproval(), body.allowedDnsNames()), Actors.of(request)));
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
