package io.fleetkey.simulator.report;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.DataFormatException;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.HdrHistogram.Histogram;

/**
 * Everything one simulator run measured, as plain values: what {@link RunRecorder#finish()}
 * returns and what the text, JSON and HTML outputs show. Times are seconds since the run's
 * start; latencies are milliseconds.
 *
 * @param scenario  what ran, e.g. {@code enroll-storm}
 * @param settings  the run's settings as the operator gave them, in a stable order
 * @param startedAt ISO-8601 UTC instant of the start
 * @param endedAt   ISO-8601 UTC instant of the end
 * @param series    one entry per door and operation that recorded anything, in door then operation order
 * @param faults    faults injected during the run, in the order they began
 * @param baseline  the crypto-only rate measured beside the run, or null when none was measured
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunReport(String scenario, Map<String, String> settings, String startedAt, String endedAt,
                        double elapsedSeconds, Machine machine, List<Series> series, List<Fault> faults,
                        Baseline baseline) {
    public RunReport {
        settings = settings == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        series = series == null ? List.of() : List.copyOf(series);
        faults = faults == null ? List.of() : List.copyOf(faults);
    }

    /** The count of one outcome over every door and operation. */
    public long total(Outcome outcome) {
        return series.stream().mapToLong(s -> s.count(outcome)).sum();
    }

    /** Operations counted, whatever their outcome (not-run ones included). */
    public long totalOperations() {
        return series.stream().mapToLong(Series::operations).sum();
    }

    public long totalUnsuccessful() {
        return totalOperations() - total(Outcome.SUCCEEDED);
    }

    /** The facts of the machine a run measured on, which its numbers depend on. */
    public record Machine(int cores, String jvm, String javaVersion, String os, String arch, long maxHeapBytes) {
        public static Machine current() {
            return new Machine(Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"),
                    System.getProperty("java.version"),
                    System.getProperty("os.name") + " " + System.getProperty("os.version"),
                    System.getProperty("os.arch"), Runtime.getRuntime().maxMemory());
        }
    }

    /**
     * One door and operation.
     *
     * @param outcomes  count per outcome, every outcome present
     * @param refusals  count per refusal reason (the server's code), sorted by reason
     * @param failures  count per failure kind (TIMEOUT, IO:ConnectException, ...), sorted by kind
     * @param samples   one message per reason or kind, to show what it looked like
     * @param latency   the latency of the successful operations
     * @param timeline  completions per second since the run's start
     */
    public record Series(Door door, Operation operation, Map<Outcome, Long> outcomes, Map<String, Long> refusals,
                         Map<String, Long> failures, Map<String, String> samples, Latency latency, Timeline timeline) {
        public Series {
            EnumMap<Outcome, Long> all = new EnumMap<>(Outcome.class);
            for (Outcome outcome : Outcome.values()) {
                all.put(outcome, outcomes == null ? 0L : outcomes.getOrDefault(outcome, 0L));
            }
            outcomes = java.util.Collections.unmodifiableMap(all);
            refusals = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(refusals == null ? Map.of() : refusals));
            failures = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(failures == null ? Map.of() : failures));
            samples = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(samples == null ? Map.of() : samples));
        }

        public long count(Outcome outcome) {
            return outcomes.getOrDefault(outcome, 0L);
        }

        public long operations() {
            return outcomes.values().stream().mapToLong(Long::longValue).sum();
        }

        /** "HTTPS enroll". */
        public String name() {
            return door.label() + " " + operation.label();
        }
    }

    /**
     * A latency distribution from an HdrHistogram of microseconds, in milliseconds.
     *
     * @param curve     the value at fixed percentiles (0, 10, 25, 50 ... 99.99, 100)
     * @param histogram the whole histogram, compressed (HdrHistogram's V2 encoding) in base64, for
     *                  merging runs or reading any other percentile; empty when nothing was recorded
     */
    public record Latency(long count, double minMs, double meanMs, double p50Ms, double p90Ms, double p99Ms,
                          double p999Ms, double maxMs, List<Point> curve, String histogram) {
        /** The percentiles the curve is drawn through: dense towards the tail, where the story is. */
        public static final double[] CURVE_PERCENTILES =
                {0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100};

        public Latency {
            curve = curve == null ? List.of() : List.copyOf(curve);
        }

        public static Latency of(Histogram micros) {
            if (micros.getTotalCount() == 0) {
                return new Latency(0, 0, 0, 0, 0, 0, 0, 0, List.of(), "");
            }
            List<Point> curve = new ArrayList<>();
            for (double percentile : CURVE_PERCENTILES) {
                curve.add(new Point(percentile, millis(micros.getValueAtPercentile(percentile))));
            }
            ByteBuffer buffer = ByteBuffer.allocate(micros.getNeededByteBufferCapacity());
            int length = micros.encodeIntoCompressedByteBuffer(buffer);
            String encoded = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
            return new Latency(micros.getTotalCount(), millis(micros.getMinValue()), micros.getMean() / 1000.0,
                    millis(micros.getValueAtPercentile(50)), millis(micros.getValueAtPercentile(90)),
                    millis(micros.getValueAtPercentile(99)), millis(micros.getValueAtPercentile(99.9)),
                    millis(micros.getMaxValue()), curve, encoded);
        }

        /** The histogram this was made from (microseconds). */
        public Histogram decodeHistogram() {
            if (histogram == null || histogram.isEmpty()) {
                return new Histogram(RunRecorder.HIGHEST_MICROS, RunRecorder.SIGNIFICANT_DIGITS);
            }
            try {
                return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(histogram)), 0);
            } catch (DataFormatException e) {
                throw new IllegalArgumentException("the latency histogram is not a compressed HdrHistogram", e);
            }
        }

        private static double millis(long micros) {
            return micros / 1000.0;
        }
    }

    /** The latency at one percentile. */
    public record Point(double percentile, double valueMs) {
    }

    /** Completions per second: entry i counts what ended in second i of the run (same length in all three). */
    public record Timeline(List<Long> succeeded, List<Long> refused, List<Long> failed) {
        public Timeline {
            succeeded = List.copyOf(succeeded);
            refused = List.copyOf(refused);
            failed = List.copyOf(failed);
        }

        public int seconds() {
            return succeeded.size();
        }
    }

    /**
     * A fault injected during the run, and what it did.
     *
     * @param kind           e.g. {@code broker-restart}, {@code coap-loss}, {@code server-restart}
     * @param detail         what exactly was done, e.g. "20% loss, 50 ms delay on CoAP"
     * @param startSecond    when it began, seconds since the run's start
     * @param endSecond      when it was lifted, or null when it lasted to the end
     * @param failuresDuring refused and failed operations of every door that ended between its start and its end
     * @param failuresBySeries the same, per door and operation ("MQTT enroll"), only those that had any
     * @param recovered      devices (or sessions) the run saw recover after it, as the scenario counts them
     * @param notRecovered   those that did not recover by the end of the run
     * @param recovery       how recovery was judged or what it looked like, free text
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Fault(String kind, String detail, double startSecond, Double endSecond, long failuresDuring,
                        Map<String, Long> failuresBySeries, long recovered, long notRecovered, String recovery) {
        public Fault {
            failuresBySeries = failuresBySeries == null ? Map.of()
                    : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(failuresBySeries));
        }
    }

    /**
     * The crypto-only rate measured in the same run, so the run's throughput can be read against
     * what the machine's public-key work alone allows.
     *
     * @param name        e.g. {@code sign+verify P-256}
     * @param description what one operation is
     * @param operations  how many were timed
     * @param seconds     how long they took in all
     * @param threads     how many threads ran them
     */
    public record Baseline(String name, String description, long operations, double seconds, int threads,
                           Latency latency) {
        public double perSecond() {
            return seconds <= 0 ? 0 : operations / seconds;
        }
    }
}
