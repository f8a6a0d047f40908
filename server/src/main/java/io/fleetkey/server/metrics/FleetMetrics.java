package io.fleetkey.server.metrics;

import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentObserver;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.registry.DeviceRevoked;
import io.fleetkey.server.registry.RevocationReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.event.ApplicationEventListener;
import jakarta.inject.Singleton;

/**
 * Fleetkey's own meters (docs/metrics.md). Every tag takes its value from a small fixed set (a
 * door, an operation, an outcome, a failure code, a revocation reason, an OCSP status), never
 * from a device id or serial, so the number of series stays bounded. All meters are made up
 * front: recording is a lookup in an enum-indexed table, and a series shows 0 before its first
 * event, so rate() and alerts work from the start.
 */
@Singleton
public class FleetMetrics implements EnrollmentObserver, ApplicationEventListener<DeviceRevoked> {
    static final String ENROLLMENTS = "fleetkey.enrollments";
    static final String REFUSALS = "fleetkey.enrollment.refusals";
    static final String DURATION = "fleetkey.enrollment.duration";
    static final String NONCES = "fleetkey.nonces.issued";
    static final String REVOKED_DEVICES = "fleetkey.revoked.devices";
    static final String REVOKED_CERTIFICATES = "fleetkey.revoked.certificates";
    static final String OCSP = "fleetkey.ocsp.requests";

    /** What became of an enrollment request in the core. */
    enum Outcome {
        ISSUED, PENDING, REFUSED, ERROR;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    /**
     * The OCSP answers counted by name: the certificate statuses (RFC 6960 §2.2) and the error
     * statuses of a response (§2.3). Anything else counts as {@code other}.
     */
    static final Set<String> OCSP_STATUSES = Set.of("good", "revoked", "unknown", "malformedRequest",
            "internalError", "tryLater", "sigRequired", "unauthorized");

    /**
     * The latency histogram's bucket bounds: from a refusal that stops at the CSR check (about a
     * millisecond) to an issuance that waits for a busy database. A dozen fixed buckets keep the
     * series few and let Prometheus's histogram_quantile() aggregate across server nodes.
     */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10)};

    private final Map<Door, Map<Operation, Map<Outcome, Counter>>> enrollments = new EnumMap<>(Door.class);
    private final Map<Door, Map<FailureCode, Counter>> refusals = new EnumMap<>(Door.class);
    private final Map<Door, Map<Operation, Timer>> durations = new EnumMap<>(Door.class);
    private final Map<RevocationReason, Counter> revokedDevices = new EnumMap<>(RevocationReason.class);
    private final Map<RevocationReason, Counter> revokedCertificates = new EnumMap<>(RevocationReason.class);
    private final Map<String, Counter> ocsp;
    private final Counter ocspOther;
    private final Counter nonces;

    public FleetMetrics(MeterRegistry registry) {
        for (Door door : Door.values()) {
            Map<Operation, Map<Outcome, Counter>> byOperation = new EnumMap<>(Operation.class);
            Map<Operation, Timer> timers = new EnumMap<>(Operation.class);
            for (Operation operation : Operation.values()) {
                Map<Outcome, Counter> byOutcome = new EnumMap<>(Outcome.class);
                for (Outcome outcome : Outcome.values()) {
                    byOutcome.put(outcome, Counter.builder(ENROLLMENTS)
                            .description("Enrollment requests the core answered, by door, operation and outcome "
                                    + "(error: no answer, the request failed inside the server)")
                            .tags("door", door.label(), "operation", operation.label(), "outcome", outcome.label)
                            .register(registry));
                }
                byOperation.put(operation, byOutcome);
                timers.put(operation, Timer.builder(DURATION)
                        .description("Time the core took to answer an enrollment request, by door and operation")
                        .tags("door", door.label(), "operation", operation.label())
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .register(registry));
            }
            enrollments.put(door, byOperation);
            durations.put(door, timers);
            Map<FailureCode, Counter> byCode = new EnumMap<>(FailureCode.class);
            for (FailureCode code : FailureCode.values()) {
                byCode.put(code, Counter.builder(REFUSALS)
                        .description("Enrollment requests the core refused, by door and failure code")
                        .tags("door", door.label(), "reason", code.name())
                        .register(registry));
            }
            refusals.put(door, byCode);
        }
        for (RevocationReason reason : RevocationReason.values()) {
            revokedDevices.put(reason, Counter.builder(REVOKED_DEVICES)
                    .description("Devices revoked, by RFC 5280 reason")
                    .tags("reason", reason.rfcName()).register(registry));
            revokedCertificates.put(reason, Counter.builder(REVOKED_CERTIFICATES)
                    .description("Certificates revoked with their device, by RFC 5280 reason")
                    .tags("reason", reason.rfcName()).register(registry));
        }
        Map<String, Counter> byStatus = new HashMap<>();
        for (String status : OCSP_STATUSES) {
            byStatus.put(status, ocspCounter(registry, status));
        }
        ocsp = Map.copyOf(byStatus);
        ocspOther = ocspCounter(registry, "other");
        nonces = Counter.builder(NONCES).description("Freshness nonces issued, on every door").register(registry);
    }

    private static Counter ocspCounter(MeterRegistry registry, String status) {
        return Counter.builder(OCSP).description("OCSP requests answered, by the status of the answer")
                .tags("status", status).register(registry);
    }

    @Override
    public void answered(Door door, Operation operation, EnrollmentResult result, long nanos) {
        Outcome outcome;
        if (result instanceof EnrollmentResult.Issued) {
            outcome = Outcome.ISSUED;
        } else if (result instanceof EnrollmentResult.Pending) {
            outcome = Outcome.PENDING;
        } else {
            outcome = Outcome.REFUSED;
            refusals.get(door).get(((EnrollmentResult.Refused) result).code()).increment();
        }
        record(door, operation, outcome, nanos);
    }

    @Override
    public void failed(Door door, Operation operation, long nanos) {
        record(door, operation, Outcome.ERROR, nanos);
    }

    private void record(Door door, Operation operation, Outcome outcome, long nanos) {
        enrollments.get(door).get(operation).get(outcome).increment();
        durations.get(door).get(operation).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void nonceIssued() {
        nonces.increment();
    }

    /** Counts the device and the certificates it lost, under the revocation's reason. */
    @Override
    public void onApplicationEvent(DeviceRevoked event) {
        revokedDevices.get(event.reason()).increment();
        revokedCertificates.get(event.reason()).increment(event.revokedSerials().size());
    }

    /**
     * Counts one answered OCSP request by its status: {@code good}, {@code revoked} or
     * {@code unknown} for a successful response (the certificate's status), else the response
     * status ({@code malformedRequest}, {@code internalError}, {@code tryLater},
     * {@code sigRequired}, {@code unauthorized}). Any other value counts as {@code other}, so a
     * caller's mistake cannot add series.
     */
    public void ocspAnswered(String status) {
        (status == null ? ocspOther : ocsp.getOrDefault(status, ocspOther)).increment();
    }
}
