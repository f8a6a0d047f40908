package io.fleetkey.simulator.report;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Where the devices of a run report what they did. Thread-safe and cheap on the hot path: a
 * device task takes its {@link SeriesRecorder} once ({@link #series}) and then each call is a
 * clock read, a few {@link LongAdder} and atomic-array increments and, for successes, a wait-free
 * HdrHistogram record; no locks, except a map insertion the first time a refusal reason is seen.
 *
 * <p>Latencies go in microseconds into one {@link ConcurrentHistogram} per door and operation
 * (successful operations only), clamped to {@link #HIGHEST_MICROS}. Completions are counted per
 * second since the start for the throughput timeline. {@link #finish()} ends the run and returns
 * the {@link RunReport}.
 */
public final class RunRecorder {
    public static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);
    public static final int SIGNIFICANT_DIGITS = 3;
    private static final int SAMPLE_LENGTH = 160;

    private final String scenario;
    private final Map<String, String> settings;
    private final LongSupplier nanoClock;
    private final long startNanos;
    private final Instant startedAt;
    private final Clock wallClock;
    private final AtomicReferenceArray<SeriesRecorder> series =
            new AtomicReferenceArray<>(Door.values().length * Operation.values().length);
    private final LongAdder done = new LongAdder();
    private final LongAdder unsuccessful = new LongAdder();
    private final List<FaultRecorder> faults = new CopyOnWriteArrayList<>();
    private volatile RunReport.Baseline baseline;
    private volatile RunReport finished;

    /**
     * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     */
    public RunRecorder(String scenario, Map<String, String> settings, Clock wallClock, LongSupplier nanoClock) {
        this.scenario = scenario;
        this.settings = new LinkedHashMap<>(settings);
        this.wallClock = wallClock;
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        this.startedAt = wallClock.instant();
    }

    /** A run starting now. */
    public static RunRecorder start(String scenario, Map<String, String> settings) {
        return new RunRecorder(scenario, settings, Clock.systemUTC(), System::nanoTime);
    }

    /** The recorder's clock: pass what it returns before an operation to the call that reports its end. */
    public long now() {
        return nanoClock.getAsLong();
    }

    public double elapsedSeconds() {
        return (now() - startNanos) / 1e9;
    }

    /** The recorder of one door and operation, made on first use; keep it rather than asking each time. */
    public SeriesRecorder series(Door door, Operation operation) {
        int index = door.ordinal() * Operation.values().length + operation.ordinal();
        SeriesRecorder recorder = series.get(index);
        if (recorder == null) {
            series.compareAndSet(index, null, new SeriesRecorder(door, operation));
            recorder = series.get(index);
        }
        return recorder;
    }

    /** Operations ended so far and how many of them did not succeed, for the live progress line. */
    public Progress progress() {
        return new Progress(done.sum(), unsuccessful.sum(), elapsedSeconds());
    }

    public record Progress(long done, long unsuccessful, double elapsedSeconds) {
    }

    /** A fault begins now; tell the returned handle when it is lifted and what recovered. */
    public FaultRecorder faultBegins(String kind, String detail) {
        FaultRecorder fault = new FaultRecorder(kind, detail, elapsedSeconds());
        faults.add(fault);
        return fault;
    }

    /** The crypto-only baseline measured beside this run. */
    public void baseline(RunReport.Baseline baseline) {
        this.baseline = baseline;
    }

    /** Ends the run at the first call and returns its report; later calls return the same report. */
    public synchronized RunReport finish() {
        if (finished == null) {
            long endNanos = now();
            int seconds = (int) Math.min(PerSecondCounts.MAX_SECONDS, (endNanos - startNanos) / 1_000_000_000L + 1);
            List<SeriesRecorder> used = new ArrayList<>();
            for (int i = 0; i < series.length(); i++) {
                if (series.get(i) != null) {
                    used.add(series.get(i));
                }
            }
            List<RunReport.Series> reports = used.stream().map(s -> s.report(seconds)).toList();
            List<RunReport.Fault> faultReports = faults.stream().map(f -> f.report(reports)).toList();
            Instant endedAt = startedAt.plusNanos(endNanos - startNanos);
            finished = new RunReport(scenario, settings, startedAt.truncatedTo(ChronoUnit.MILLIS).toString(),
                    endedAt.truncatedTo(ChronoUnit.MILLIS).toString(), (endNanos - startNanos) / 1e9,
                    RunReport.Machine.current(), reports, faultReports, baseline);
        }
        return finished;
    }

    private long second(long nanos) {
        return (nanos - startNanos) / 1_000_000_000L;
    }

    /** The counts, latencies and timeline of one door and operation. Thread-safe. */
    public final class SeriesRecorder {
        private final Door door;
        private final Operation operation;
        private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(HIGHEST_MICROS, SIGNIFICANT_DIGITS);
        private final EnumMap<Outcome, LongAdder> outcomes = new EnumMap<>(Outcome.class);
        private final ConcurrentHashMap<String, LongAdder> refusals = new ConcurrentHashMap<>();
        private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
        private final ConcurrentHashMap<String, String> samples = new ConcurrentHashMap<>();
        private final PerSecondCounts succeededPerSecond = new PerSecondCounts();
        private final PerSecondCounts refusedPerSecond = new PerSecondCounts();
        private final PerSecondCounts failedPerSecond = new PerSecondCounts();

        private SeriesRecorder(Door door, Operation operation) {
            this.door = door;
            this.operation = operation;
            for (Outcome outcome : Outcome.values()) {
                outcomes.put(outcome, new LongAdder()); // filled once, then only read: safe to share
            }
        }

        /** The operation begun at {@code startNanos} (from {@link #now()}) succeeded now. */
        public void succeeded(long startNanos) {
            long end = now();
            latencyMicros.recordValue(Math.max(0, Math.min(HIGHEST_MICROS, (end - startNanos) / 1_000)));
            succeededPerSecond.increment(second(end));
            outcomes.get(Outcome.SUCCEEDED).increment();
            done.increment();
        }

        /** The server refused the operation now, for {@code reason} (its code); {@code message} is kept as a sample. */
        public void refused(String reason, String message) {
            refusedPerSecond.increment(second(now()));
            count(refusals, reason, message);
            outcomes.get(Outcome.REFUSED).increment();
            done.increment();
            unsuccessful.increment();
        }

        /** The operation failed now without an answer to count on: {@code kind} such as TIMEOUT or IO:ConnectException. */
        public void failed(String kind, String message) {
            failedPerSecond.increment(second(now()));
            count(failures, kind, message);
            outcomes.get(Outcome.FAILED).increment();
            done.increment();
            unsuccessful.increment();
        }

        /** {@code count} operations never started. */
        public void notRun(long count) {
            outcomes.get(Outcome.NOT_RUN).add(count);
            done.add(count);
            unsuccessful.add(count);
        }

        private void count(ConcurrentHashMap<String, LongAdder> counts, String reason, String message) {
            String key = reason == null || reason.isBlank() ? "UNKNOWN" : reason;
            LongAdder count = counts.get(key);
            if (count == null) {
                count = counts.computeIfAbsent(key, k -> new LongAdder());
            }
            count.increment();
            if (message != null && !samples.containsKey(key)) {
                samples.putIfAbsent(key, message.length() > SAMPLE_LENGTH ? message.substring(0, SAMPLE_LENGTH) + "..."
                        : message);
            }
        }

        private RunReport.Series report(int seconds) {
            Map<Outcome, Long> outcomeCounts = new EnumMap<>(Outcome.class);
            outcomes.forEach((outcome, count) -> outcomeCounts.put(outcome, count.sum()));
            Histogram latency = latencyMicros.copy();
            return new RunReport.Series(door, operation, outcomeCounts, sums(refusals), sums(failures), samples,
                    RunReport.Latency.of(latency), new RunReport.Timeline(succeededPerSecond.toList(seconds),
                    refusedPerSecond.toList(seconds), failedPerSecond.toList(seconds)));
        }

        private static Map<String, Long> sums(Map<String, LongAdder> counts) {
            Map<String, Long> sums = new TreeMap<>();
            counts.forEach((key, count) -> sums.put(key, count.sum()));
            return sums;
        }
    }

    /** One fault of the run. Thread-safe. */
    public final class FaultRecorder {
        private final String kind;
        private final String detail;
        private final double startSecond;
        private volatile Double endSecond;
        private volatile long recovered;
        private volatile long notRecovered;
        private volatile String recovery;

        private FaultRecorder(String kind, String detail, double startSecond) {
            this.kind = kind;
            this.detail = detail;
            this.startSecond = startSecond;
        }

        /** The fault is lifted now (the broker is back, the loss is switched off...). */
        public void ends() {
            if (endSecond == null) {
                endSecond = elapsedSeconds();
            }
        }

        /** What recovered after the fault, as the scenario judged it. */
        public void recovery(long recovered, long notRecovered, String how) {
            this.recovered = recovered;
            this.notRecovered = notRecovered;
            this.recovery = how;
        }

        private RunReport.Fault report(List<RunReport.Series> series) {
            int seconds = series.stream().mapToInt(s -> s.timeline().seconds()).max().orElse(0);
            int from = (int) Math.floor(startSecond);
            int to = endSecond == null ? seconds - 1 : (int) Math.floor(endSecond);
            long failuresDuring = 0;
            Map<String, Long> bySeries = new LinkedHashMap<>();
            for (RunReport.Series s : series) {
                long count = 0;
                for (int i = from; i <= to && i < s.timeline().seconds(); i++) {
                    count += s.timeline().refused().get(i) + s.timeline().failed().get(i);
                }
                if (count > 0) {
                    bySeries.put(s.name(), count);
                }
                failuresDuring += count;
            }
            return new RunReport.Fault(kind, detail, startSecond, endSecond, failuresDuring, bySeries, recovered,
                    notRecovered, recovery);
        }
    }
}
