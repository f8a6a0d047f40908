package io.fleetkey.simulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

import javax.net.ssl.SSLContext;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.EnrollmentPendingException;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.KeyFiles;
import org.HdrHistogram.Histogram;

/**
 * A first-boot storm: N registered devices enroll at once with their one-time tokens, C at a
 * time, on one fixed pool of C threads sharing one keep-alive HTTPS client. Set-up (group,
 * bulk registration, keys and CSRs) happens before the clock starts, so the numbers measure
 * the server's enrollment path only. The whole run is bounded by {@link Settings#timeout()}.
 */
final class EnrollStorm {
    /** The fleet API takes at most this many devices per bulk registration. */
    static final int REGISTRATION_CHUNK = FleetApiClient.MAX_BULK;
    static final EstHttpsClient.Timeouts REQUEST_TIMEOUTS =
            new EstHttpsClient.Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(30));
    private static final long HIGHEST_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

    /**
     * @param anchors the Fleetkey CA chain the server's TLS certificate must chain to
     * @param timeout bound of the whole run; enrollments not started by then are counted as not run
     */
    record Settings(URI server, List<X509Certificate> anchors, String adminToken, int devices, int concurrency,
                    String group, Duration timeout) {
    }

    private final Settings settings;
    private final PrintStream out;

    EnrollStorm(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    StormReport run() throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        SSLContext tls = AgentTls.trusting(settings.anchors());
        int n = settings.devices();

        String runId = Long.toString(System.currentTimeMillis(), 36);
        String[] deviceIds = new String[n];
        for (int i = 0; i < n; i++) {
            deviceIds[i] = deviceId(settings.group(), runId, i);
        }
        String[] tokens = register(new FleetApiClient(settings.server(), tls, settings.adminToken()), deviceIds, deadline);

        long prepareStart = System.nanoTime();
        byte[][] csrs = new byte[n][];
        IntStream.range(0, n).parallel().forEach(i -> {
            if (System.nanoTime() < deadline) {
                // The one-time token travels in the CSR's challengePassword, as on every door.
                csrs[i] = KeyFiles.certificationRequest(KeyFiles.generateKeyPair(), deviceIds[i],
                        tokens[i] == null ? List.of() : List.of(KeyFiles.challengePassword(tokens[i])));
            }
        });
        out.printf(Locale.ROOT, "Prepared %d keys and CSRs in %.1f s%n", n, seconds(System.nanoTime() - prepareStart));

        return storm(new EstHttpsClient(settings.server(), tls, REQUEST_TIMEOUTS), deviceIds, csrs, deadline);
    }

    /** Device ids unique to this run: GROUP-RUN-000042. */
    static String deviceId(String group, String runId, int index) {
        return group + "-" + runId + "-" + String.format(Locale.ROOT, "%06d", index);
    }

    private String[] register(FleetApiClient fleet, String[] deviceIds, long deadline)
            throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        long start = System.nanoTime();
        boolean created = fleet.createGroup(settings.group(), "device");
        out.println((created ? "Created group '" : "Using existing group '") + settings.group() + "'");
        String[] tokens = new String[deviceIds.length];
        for (int from = 0; from < deviceIds.length; from += REGISTRATION_CHUNK) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the time ran out while registering devices; raise --timeout");
            }
            int to = Math.min(deviceIds.length, from + REGISTRATION_CHUNK);
            Map<String, String> chunk = fleet.registerBulk(settings.group(), List.of(deviceIds).subList(from, to));
            for (int i = from; i < to; i++) {
                tokens[i] = chunk.get(deviceIds[i]);
            }
            out.printf(Locale.ROOT, "Registered %d/%d devices%n", to, deviceIds.length);
        }
        out.printf(Locale.ROOT, "Registration took %.1f s%n", seconds(System.nanoTime() - start));
        return tokens;
    }

    private StormReport storm(EstHttpsClient est, String[] deviceIds, byte[][] csrs, long deadline)
            throws InterruptedException {
        int n = deviceIds.length;
        int threads = settings.concurrency();
        AtomicInteger next = new AtomicInteger();
        LongAdder succeeded = new LongAdder();
        LongAdder done = new LongAdder();
        Map<String, LongAdder> failures = new ConcurrentHashMap<>();
        Map<String, String> samples = new ConcurrentHashMap<>();
        List<Histogram> histograms = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            histograms.add(new Histogram(HIGHEST_LATENCY_MICROS, 3));
        }

        out.printf(Locale.ROOT, "Enrolling %d devices with %d threads...%n", n, threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads, daemonThreads("storm"));
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(daemonThreads("progress"));
        long start = System.nanoTime();
        long[] last = {start, 0};
        progress.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            long count = done.sum();
            double rate = (count - last[1]) / seconds(now - last[0]);
            last[0] = now;
            last[1] = count;
            long failed = failures.values().stream().mapToLong(LongAdder::sum).sum();
            out.printf(Locale.ROOT, "  %5.0fs  %d/%d done  %.0f/s now  %d failed%n",
                    seconds(now - start), count, n, rate, failed);
        }, 1, 1, TimeUnit.SECONDS);

        for (int t = 0; t < threads; t++) {
            Histogram latency = histograms.get(t);
            pool.execute(() -> {
                while (System.nanoTime() < deadline) {
                    int i = next.getAndIncrement();
                    if (i >= n) {
                        return;
                    }
                    long begin = System.nanoTime();
                    try {
                        if (csrs[i] == null) {
                            throw new IllegalStateException("no CSR was prepared in time");
                        }
                        est.simpleEnroll(csrs[i]);
                        latency.recordValue(Math.min(HIGHEST_LATENCY_MICROS, (System.nanoTime() - begin) / 1_000));
                        succeeded.increment();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } catch (Exception e) {
                        String kind = failureKind(e);
                        failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
                        samples.putIfAbsent(kind, sample(e));
                    } finally {
                        done.increment();
                    }
                }
            });
        }
        pool.shutdown();
        long waitNanos = Math.max(0, deadline - System.nanoTime()) + REQUEST_TIMEOUTS.request().toNanos()
                + TimeUnit.SECONDS.toNanos(5);
        if (!pool.awaitTermination(waitNanos, TimeUnit.NANOSECONDS)) {
            pool.shutdownNow();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        progress.shutdownNow();

        Histogram all = new Histogram(HIGHEST_LATENCY_MICROS, 3);
        histograms.forEach(all::add);
        TreeMap<String, Long> failureCounts = new TreeMap<>();
        failures.forEach((kind, count) -> failureCounts.put(kind, count.sum()));
        long started = Math.min(n, next.get());
        long notRun = n - started + (started - done.sum());
        return new StormReport(n, threads, succeeded.sum(), failureCounts, samples, notRun, elapsed, all);
    }

    /** Groups failures the way an operator reads them: the server's code first, then the client's view. */
    static String failureKind(Exception e) {
        if (e instanceof EstException est) {
            return est.code().map(Enum::name).orElse("HTTP_" + est.status());
        }
        if (e instanceof EnrollmentPendingException) {
            return "PENDING";
        }
        if (e instanceof HttpConnectTimeoutException) {
            return "CONNECT_TIMEOUT";
        }
        if (e instanceof HttpTimeoutException) {
            return "TIMEOUT";
        }
        if (e instanceof IOException) {
            return "IO:" + e.getClass().getSimpleName();
        }
        return "CLIENT:" + e.getClass().getSimpleName();
    }

    private static String sample(Exception e) {
        String text = e instanceof EstException est ? est.reason() : String.valueOf(e.getMessage());
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
