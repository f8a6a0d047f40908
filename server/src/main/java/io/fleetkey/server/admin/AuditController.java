package io.fleetkey.server.admin;

import java.util.regex.Pattern;

import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.server.admin.ApiViews.AuditEntryView;
import io.fleetkey.server.admin.ApiViews.AuditPageView;
import io.fleetkey.server.admin.ApiViews.VerificationView;
import io.fleetkey.server.registry.AuditChain;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.FleetException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;

/** The hash-chained audit log: pages of it in sequence order, and a walk that verifies the chain. */
@Controller("/api/v1/audit")
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "Audit")
@SecurityRequirement(name = "bearer")
public class AuditController {
    static final int MAX_LIMIT = 1000;
    /** Entries read per page while verifying: bounds memory, however long the log. */
    static final int VERIFY_PAGE = 1000;
    private static final Pattern ACTION = Pattern.compile("[a-z0-9.-]{1,64}");

    private final AuditLog audit;

    public AuditController(AuditLog audit) {
        this.audit = audit;
    }

    @Operation(summary = "A page of the audit log in sequence order, after entry 'after', optionally for one device or action")
    @Get
    public AuditPageView page(@Nullable @QueryValue String after, @Nullable @QueryValue String limit,
                              @Nullable @QueryValue String deviceId, @Nullable @QueryValue String action) {
        long afterSeq = number("after", after, 0, 0, Long.MAX_VALUE);
        int size = (int) number("limit", limit, 100, 1, MAX_LIMIT);
        String device = blankToNull(deviceId);
        if (device != null && !DeviceIds.isValid(device)) {
            throw invalid("deviceId must be a device id: " + DeviceIds.rule());
        }
        String act = blankToNull(action);
        if (act != null && !ACTION.matcher(act).matches()) {
            throw invalid("action must be an action name such as device.revoked: 1 to 64 of a-z 0-9 . -");
        }
        var entries = audit.page(afterSeq, size, device, act);
        Long next = entries.size() < size ? null : entries.get(entries.size() - 1).seq();
        return new AuditPageView(entries.stream().map(AuditEntryView::of).toList(), next);
    }

    @Operation(summary = "Walk the whole hash chain; ok, or the first entry that was altered, deleted or cut off")
    @Post("/verify")
    public VerificationView verify() {
        return VerificationView.of(AuditChain.verify(audit, VERIFY_PAGE));
    }

    @Operation(summary = "Walk the whole hash chain (as POST)")
    @Get("/verify")
    public VerificationView verifyByGet() {
        return verify();
    }

    private static long number(String name, String text, long absent, long min, long max) {
        if (text == null || text.isBlank()) {
            return absent;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw invalid(name + " must be a whole number from " + min + " to " + max + ", not '"
                + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static FleetException invalid(String message) {
        return new FleetException(FleetException.Kind.INVALID, message);
    }
}
