package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

/** Append-only record of what changed, who did it and why. Never holds secrets. */
public interface AuditLog {
    void append(AuditEvent event);

    List<AuditEvent> forDevice(String deviceId, int limit);

    record AuditEvent(Instant occurredAt, String actor, String action, String deviceId, String detail) {
    }
}
