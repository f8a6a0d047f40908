package io.fleetkey.server.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentObserver.Operation;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.metrics.FleetMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the metrics add to one enrollment, alone: the two clock readings the core takes around
 * a request and what {@link FleetMetrics} records for its answer (a counter, the latency
 * histogram, and for a refusal the refusal counter), in a Prometheus registry behind a
 * composite as the server has it. Compare with one {@code IssuanceBenchmark.enrollWithToken}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class MetricsOverheadBenchmark {
    private static final EnrollmentResult ISSUED = new EnrollmentResult.Issued(null, List.of(), false);
    private static final EnrollmentResult REFUSED = new EnrollmentResult.Refused(FailureCode.TOKEN_USED, "used");

    private final FleetMetrics metrics;

    public MetricsOverheadBenchmark() {
        CompositeMeterRegistry registry = new CompositeMeterRegistry();
        registry.add(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        metrics = new FleetMetrics(registry);
    }

    @Benchmark
    public void issued() {
        long start = System.nanoTime();
        metrics.answered(Door.HTTPS, Operation.ENROLL, ISSUED, System.nanoTime() - start + Duration.ofMillis(2).toNanos());
    }

    @Benchmark
    public void refused() {
        long start = System.nanoTime();
        metrics.answered(Door.MQTT, Operation.REENROLL, REFUSED, System.nanoTime() - start + 300_000);
    }
}
