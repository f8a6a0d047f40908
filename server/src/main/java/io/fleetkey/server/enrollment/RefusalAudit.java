package io.fleetkey.server.enrollment;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.DeviceRepository;

/**
 * Puts refused enrollments and renewals of registered devices into the audit log, with the
 * refusal's code and reason. Requests are not authenticated when they are refused, so anyone
 * can send them: a refusal naming no device, or a device that is not registered, goes only to
 * the rate-limited {@link RejectedTraffic} log, and each registered device gets at most
 * {@value #PER_DEVICE_PER_MINUTE} refusal entries a minute on this node, so garbage cannot
 * flood the table. Thread-safe.
 */
final class RefusalAudit {
    static final int PER_DEVICE_PER_MINUTE = 10;
    /** Bounds the memory the counts take in a large fleet; they start over when full. */
    private static final int TRACKED_DEVICES = 10_000;

    private final AuditLog audit;
    private final DeviceRepository devices;
    private final Clock clock;
    private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private volatile long minute;

    RefusalAudit(AuditLog audit, DeviceRepository devices, Clock clock) {
        this.audit = audit;
        this.devices = devices;
        this.clock = clock;
    }

    /**
     * @param action   {@code enrollment.refused} or {@code renewal.refused}
     * @param door     the door the request came in by
     * @param deviceId the device the request named (its CSR's CN), not proven; null when unknown
     */
    void record(String action, Door door, String deviceId, EnrollmentResult.Refused refused) {
        // Already in the log as attestation.failed, with the appraisal's reasons.
        // Registered first: counting unknown ids would let a stream of them reset every device's count.
        if (deviceId == null || refused.code() == FailureCode.ATTESTATION_FAILED
                || devices.find(deviceId).isEmpty() || !admit(deviceId)) {
            return;
        }
        audit.append(new AuditEvent(clock.instant(), "device:" + deviceId, action, deviceId, deviceId,
                AuditLog.REFUSED, "over " + door.label() + ": " + refused.code() + ": " + refused.reason()));
    }

    private boolean admit(String deviceId) {
        long now = clock.millis() / 60_000;
        if (now != minute || counts.size() > TRACKED_DEVICES) {
            minute = now;
            counts.clear();
        }
        return counts.computeIfAbsent(deviceId, id -> new AtomicInteger()).incrementAndGet() <= PER_DEVICE_PER_MINUTE;
    }
}
