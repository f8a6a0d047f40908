package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class RunRecorderTest {
    @Test
    void many_threads_recording_at_once_give_exact_counts_histograms_and_timelines() throws Exception {
        RunRecorder run = RunRecorder.start("concurrent", java.util.Map.of());
        int threads = 16;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            tasks.add(pool.submit(() -> {
                go.await();
                Door door = Door.values()[thread % Door.values().length];
                RunRecorder.SeriesRecorder enroll = run.series(door, Operation.ENROLL);
                RunRecorder.SeriesRecorder renew = run.series(Door.HTTPS, Operation.RENEW);
                for (int i = 0; i < perThread; i++) {
                    long begin = run.now();
                    switch (i % 10) {
                        case 0 -> enroll.refused("TOKEN_USED", "used");
                        case 1 -> enroll.failed(i % 20 == 1 ? "TIMEOUT" : "IO:ConnectException", "thread " + thread);
                        case 2 -> renew.succeeded(begin);
                        default -> enroll.succeeded(begin);
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> task : tasks) {
            task.get();
        }
        pool.shutdown();
        RunReport report = run.finish();

        long total = (long) threads * perThread;
        assertThat(report.totalOperations()).isEqualTo(total);
        assertThat(report.total(Outcome.REFUSED)).isEqualTo(total / 10);
        assertThat(report.total(Outcome.FAILED)).isEqualTo(total / 10);
        assertThat(report.total(Outcome.SUCCEEDED)).isEqualTo(total * 8 / 10);
        assertThat(run.progress().done()).isEqualTo(total);
        assertThat(run.progress().unsuccessful()).isEqualTo(total * 2 / 10);

        RunReport.Series renew = series(report, Door.HTTPS, Operation.RENEW);
        assertThat(renew.count(Outcome.SUCCEEDED)).isEqualTo(total / 10);
        assertThat(renew.latency().count()).isEqualTo(total / 10);
        assertThat(renew.latency().decodeHistogram().getTotalCount()).isEqualTo(total / 10);
        long timeouts = 0;
        long refusedEverywhere = 0;
        for (RunReport.Series s : report.series()) {
            assertThat(s.latency().count()).isEqualTo(s.count(Outcome.SUCCEEDED));
            assertThat(s.timeline().succeeded().stream().mapToLong(Long::longValue).sum()).isEqualTo(s.count(Outcome.SUCCEEDED));
            assertThat(s.timeline().refused().stream().mapToLong(Long::longValue).sum()).isEqualTo(s.count(Outcome.REFUSED));
            assertThat(s.timeline().failed().stream().mapToLong(Long::longValue).sum()).isEqualTo(s.count(Outcome.FAILED));
            timeouts += s.failures().getOrDefault("TIMEOUT", 0L);
            refusedEverywhere += s.refusals().getOrDefault("TOKEN_USED", 0L);
        }
        assertThat(timeouts).isEqualTo(total / 20);
        assertThat(refusedEverywhere).isEqualTo(total / 10);
        assertThat(report.series()).extracting(RunReport.Series::door, RunReport.Series::operation).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Door.HTTPS, Operation.ENROLL),
                org.assertj.core.groups.Tuple.tuple(Door.HTTPS, Operation.RENEW),
                org.assertj.core.groups.Tuple.tuple(Door.COAP, Operation.ENROLL),
                org.assertj.core.groups.Tuple.tuple(Door.MQTT, Operation.ENROLL));
    }

    @Test
    void completions_land_in_the_second_they_end_and_latency_is_end_minus_begin() {
        AtomicLong nanos = new AtomicLong(7_000_000_000L);
        RunRecorder run = SampleRuns.recorder(nanos);
        RunRecorder.SeriesRecorder coap = run.series(Door.COAP, Operation.ENROLL);
        long begin = run.now();
        nanos.addAndGet(1_250_000_000L); // ends in second 1 after 1.25 s
        coap.succeeded(begin);
        nanos.addAndGet(1_000_000_000L); // second 2
        coap.refused("NOT_REGISTERED", "no such device");
        coap.failed("TIMEOUT", "x".repeat(500));
        coap.notRun(4);
        nanos.addAndGet(500_000_000L);
        RunReport report = run.finish();

        RunReport.Series s = report.series().get(0);
        assertThat(report.elapsedSeconds()).isEqualTo(2.75);
        assertThat(report.startedAt()).isEqualTo("2026-11-27T15:00:00Z");
        assertThat(report.endedAt()).isEqualTo("2026-11-27T15:00:02.750Z");
        assertThat(s.timeline().succeeded()).containsExactly(0L, 1L, 0L);
        assertThat(s.timeline().refused()).containsExactly(0L, 0L, 1L);
        assertThat(s.timeline().failed()).containsExactly(0L, 0L, 1L);
        assertThat(s.latency().maxMs()).isCloseTo(1250, org.assertj.core.data.Offset.offset(1.0));
        assertThat(s.count(Outcome.NOT_RUN)).isEqualTo(4);
        assertThat(s.samples().get("TIMEOUT")).hasSize(163).endsWith("...");
        assertThat(run.finish()).isSameAs(report);
    }

    @Test
    void a_fault_counts_the_failures_of_every_door_while_it_lasted_and_keeps_what_recovered() {
        RunReport report = SampleRuns.realistic();
        assertThat(report.faults()).hasSize(1);
        RunReport.Fault fault = report.faults().get(0);
        assertThat(fault.kind()).isEqualTo("broker-restart");
        assertThat(fault.startSecond()).isEqualTo(15.0);
        assertThat(fault.endSecond()).isEqualTo(19.0);
        // MQTT fails 45 a second for seconds 15..18, plus refusals of the other doors in 15..19.
        long refusalsDuring = 0;
        for (RunReport.Series s : report.series()) {
            for (int i = 15; i <= 19; i++) {
                refusalsDuring += s.timeline().refused().get(i);
            }
        }
        assertThat(fault.failuresDuring()).isEqualTo(4 * 45 + refusalsDuring);
        assertThat(fault.failuresBySeries()).containsEntry("MQTT enroll", 4L * 45)
                .doesNotContainKeys("HTTPS renew", "MQTT cut-off check");
        assertThat(fault.failuresBySeries().values().stream().mapToLong(Long::longValue).sum())
                .isEqualTo(fault.failuresDuring());
        assertThat(fault.recovered()).isEqualTo(612);
        assertThat(fault.notRecovered()).isEqualTo(3);
    }

    private static RunReport.Series series(RunReport report, Door door, Operation operation) {
        return report.series().stream().filter(s -> s.door() == door && s.operation() == operation).findFirst()
                .orElseThrow();
    }
}
