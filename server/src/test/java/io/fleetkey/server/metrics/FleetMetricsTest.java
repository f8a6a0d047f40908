package io.fleetkey.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentObserver.Operation;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.registry.DeviceRevoked;
import io.fleetkey.server.registry.RevocationReason;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** The meters as Prometheus shows them: names, tags and values, in a real Prometheus registry. */
class FleetMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FleetMetrics metrics = new FleetMetrics(registry);

    @Test
    void ocsp_answers_are_counted_by_status_and_unknown_statuses_add_no_series() {
        metrics.ocspAnswered("good");
        metrics.ocspAnswered("good");
        metrics.ocspAnswered("revoked");
        metrics.ocspAnswered("malformedRequest");
        metrics.ocspAnswered("serial-4711");
        metrics.ocspAnswered(null);

        String text = registry.scrape();
        assertThat(text).contains("fleetkey_ocsp_requests_total{status=\"good\"} 2.0")
                .contains("fleetkey_ocsp_requests_total{status=\"revoked\"} 1.0")
                .contains("fleetkey_ocsp_requests_total{status=\"unknown\"} 0.0")
                .contains("fleetkey_ocsp_requests_total{status=\"malformedRequest\"} 1.0")
                .contains("fleetkey_ocsp_requests_total{status=\"other\"} 2.0")
                .doesNotContain("serial-4711");
    }

    @Test
    void enrollments_are_counted_by_door_operation_and_outcome_and_timed() {
        metrics.answered(Door.HTTPS, Operation.ENROLL, new EnrollmentResult.Issued(null, List.of(), false),
                Duration.ofMillis(30).toNanos());
        metrics.answered(Door.COAPS, Operation.REENROLL,
                new EnrollmentResult.Refused(FailureCode.DEVICE_REVOKED, "device 'x' is revoked"), 1_000_000);
        metrics.answered(Door.MQTT, Operation.ENROLL, new EnrollmentResult.Pending(Duration.ofSeconds(60), "wait"),
                3_000_000);
        metrics.failed(Door.MQTT, Operation.ENROLL, 3_000_000);

        String text = registry.scrape();
        assertThat(text)
                .contains("fleetkey_enrollments_total{door=\"https\",operation=\"enroll\",outcome=\"issued\"} 1.0")
                .contains("fleetkey_enrollments_total{door=\"https\",operation=\"enroll\",outcome=\"refused\"} 0.0")
                .contains("fleetkey_enrollments_total{door=\"coaps\",operation=\"reenroll\",outcome=\"refused\"} 1.0")
                .contains("fleetkey_enrollments_total{door=\"mqtt\",operation=\"enroll\",outcome=\"pending\"} 1.0")
                .contains("fleetkey_enrollments_total{door=\"mqtt\",operation=\"enroll\",outcome=\"error\"} 1.0")
                .contains("fleetkey_enrollment_refusals_total{door=\"coaps\",reason=\"DEVICE_REVOKED\"} 1.0")
                .contains("fleetkey_enrollment_refusals_total{door=\"https\",reason=\"DEVICE_REVOKED\"} 0.0")
                .contains("fleetkey_enrollment_duration_seconds_count{door=\"https\",operation=\"enroll\"} 1")
                .contains("fleetkey_enrollment_duration_seconds_sum{door=\"https\",operation=\"enroll\"} 0.03")
                .contains("fleetkey_enrollment_duration_seconds_bucket{door=\"https\",operation=\"enroll\",le=\"0.025\"} 0")
                .contains("fleetkey_enrollment_duration_seconds_bucket{door=\"https\",operation=\"enroll\",le=\"0.05\"} 1")
                .contains("fleetkey_enrollment_duration_seconds_bucket{door=\"mqtt\",operation=\"enroll\",le=\"+Inf\"} 2")
                .contains("fleetkey_enrollment_duration_seconds_count{door=\"mqtt\",operation=\"enroll\"} 2");
    }

    @Test
    void revocations_count_devices_and_their_certificates_by_reason() {
        metrics.onApplicationEvent(new DeviceRevoked("meter-1", RevocationReason.KEY_COMPROMISE, null, Instant.now(),
                List.of("a1", "b2")));
        metrics.onApplicationEvent(new DeviceRevoked("meter-2", RevocationReason.KEY_COMPROMISE, null, Instant.now(),
                List.of()));
        metrics.nonceIssued();

        String text = registry.scrape();
        assertThat(text).contains("fleetkey_revoked_devices_total{reason=\"keyCompromise\"} 2.0")
                .contains("fleetkey_revoked_certificates_total{reason=\"keyCompromise\"} 2.0")
                .contains("fleetkey_revoked_devices_total{reason=\"superseded\"} 0.0")
                .contains("fleetkey_nonces_issued_total 1.0")
                .doesNotContain("meter-1");
    }
}
