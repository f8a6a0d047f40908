package io.fleetkey.simulator;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.HdrHistogram.Histogram;

/**
 * The outcome of a storm: counts, failures by code, throughput and the latency distribution of
 * the successful enrollments (microseconds in the histogram, printed in milliseconds).
 *
 * @param failures      count per failure kind (an EST failure code, PENDING, TIMEOUT, IO:...)
 * @param failureSamples one reason per failure kind, to show what it looked like
 * @param notRun        enrollments never started because the time ran out
 */
record StormReport(int devices, int concurrency, long succeeded, SortedMap<String, Long> failures,
                   Map<String, String> failureSamples, long notRun, Duration elapsed, Histogram latencyMicros) {
    StormReport {
        failures = new TreeMap<>(failures);
        failureSamples = Map.copyOf(failureSamples);
    }

    long failed() {
        return failures.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Successful enrollments per second of the storm's wall-clock time. */
    double throughput() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : succeeded / seconds;
    }

    String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Enroll storm: %d devices, %d threads, %.2f s%n",
                devices, concurrency, elapsed.toNanos() / 1e9));
        out.append(String.format(Locale.ROOT, "  succeeded    %d%n", succeeded));
        out.append(String.format(Locale.ROOT, "  failed       %d%n", failed()));
        int width = failures.keySet().stream().mapToInt(String::length).max().orElse(0);
        failures.forEach((code, count) -> {
            String sample = failureSamples.getOrDefault(code, "");
            out.append(String.format(Locale.ROOT, "    %-" + width + "s  %d%s%n", code, count,
                    sample.isEmpty() ? "" : "   e.g. " + sample));
        });
        if (notRun > 0) {
            out.append(String.format(Locale.ROOT, "  not run      %d (time ran out)%n", notRun));
        }
        out.append(String.format(Locale.ROOT, "  throughput   %.1f enrollments/s%n", throughput()));
        if (latencyMicros.getTotalCount() == 0) {
            out.append("  latency      no successful enrollment to measure\n");
        } else {
            out.append(String.format(Locale.ROOT, "  latency ms   p50 %.1f   p90 %.1f   p99 %.1f   max %.1f%n",
                    millis(latencyMicros.getValueAtPercentile(50)), millis(latencyMicros.getValueAtPercentile(90)),
                    millis(latencyMicros.getValueAtPercentile(99)), millis(latencyMicros.getMaxValue())));
        }
        return out.toString();
    }

    private static double millis(long micros) {
        return micros / 1000.0;
    }
}
