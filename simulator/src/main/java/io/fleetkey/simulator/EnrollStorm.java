package io.fleetkey.simulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.net.ssl.SSLContext;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.EnrollmentPendingException;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.KeyFiles;
import io.fleetkey.simulator.report.Door;
import io.fleetkey.simulator.report.Operation;
import io.fleetkey.simulator.report.ProgressLine;
import io.fleetkey.simulator.report.RunRecorder;
import io.fleetkey.simulator.report.RunReport;

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

    /**
     * @param anchors the Fleetkey CA chain the server's TLS certificate must chain to
     * @param timeout bound of the whole run; enrollments not started by then are counted as not run
     */
    record Settings(URI server, List<X509Certificate> anchors, String adminToken, int devices, int concurrency,
                    String group, Duration timeout) {
        /** What the report shows of the settings; the token stays out. */
        Map<String, String> describe() {
            Map<String, String> shown = new LinkedHashMap<>();
            shown.put("server", server.toString());
            shown.put("devices", Integer.toString(devices));
            shown.put("concurrency", Integer.toString(concurrency));
            shown.put("group", group);
            shown.put("timeout", timeout.toString());
            return shown;
        }
    }

    static final String SCENARIO = "enroll-storm";

    private final Settings settings;
    private final PrintStream out;
    private final boolean terminal;

    /** @param terminal whether {@code out} is a terminal, where progress is redrawn in place */
    EnrollStorm(Settings settings, PrintStream out, boolean terminal) {
        this.settings = settings;
        this.out = out;
        this.terminal = terminal;
    }

    RunReport run() throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        SSLContext tls = AgentTls.trusting(settings.anchors());
        int n = settings.devices();

        String runId = Long.toString(System.currentTimeMillis(), 36);
        String[] deviceIds = new String[n];
        for (int i = 0; i < n; i++) {
            deviceIds[i] = deviceId(settings.group(), runId, i);
        }
        String[] tokens = register(new FleetApiClient(settings.server(), tls, settings.adminToken()), settings.group(),
                deviceIds, out, deadline);

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

    /** Creates the group if missing and registers the devices in chunks; returns their one-time tokens. */
    static String[] register(FleetApiClient fleet, String group, String[] deviceIds, PrintStream out, long deadline)
            throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        return register(fleet, group, List.of(), deviceIds, out, deadline);
    }

    /**
     * As {@link #register(FleetApiClient, String, String[], PrintStream, long)}; with maker CAs the
     * group must be new, since they are the group's trust for factory identities.
     */
    static String[] register(FleetApiClient fleet, String group, List<String> makerCas, String[] deviceIds,
                             PrintStream out, long deadline)
            throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        long start = System.nanoTime();
        boolean created = fleet.createGroup(group, "device", makerCas);
        if (!created && !makerCas.isEmpty()) {
            throw new IOException("group '" + group + "' exists already; devices with factory identities need a new "
                    + "group that trusts their maker CA: pass a --group that does not exist yet");
        }
        out.println((created ? "Created group '" : "Using existing group '") + group + "'"
                + (makerCas.isEmpty() ? "" : " trusting the maker CA of the devices' factory identities"));
        String[] tokens = new String[deviceIds.length];
        for (int from = 0; from < deviceIds.length; from += REGISTRATION_CHUNK) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the time ran out while registering devices; raise --timeout");
            }
            int to = Math.min(deviceIds.length, from + REGISTRATION_CHUNK);
            Map<String, String> chunk = fleet.registerBulk(group, List.of(deviceIds).subList(from, to));
            for (int i = from; i < to; i++) {
                tokens[i] = chunk.get(deviceIds[i]);
            }
            out.printf(Locale.ROOT, "Registered %d/%d devices%n", to, deviceIds.length);
        }
        out.printf(Locale.ROOT, "Registration took %.1f s%n", seconds(System.nanoTime() - start));
        return tokens;
    }

    private RunReport storm(EstHttpsClient est, String[] deviceIds, byte[][] csrs, long deadline)
            throws InterruptedException {
        int n = deviceIds.length;
        int threads = settings.concurrency();
        AtomicInteger next = new AtomicInteger();
        out.printf(Locale.ROOT, "Enrolling %d devices with %d threads...%n", n, threads);
        RunRecorder recorder = RunRecorder.start(SCENARIO, settings.describe());
        RunRecorder.SeriesRecorder enroll = recorder.series(Door.HTTPS, Operation.ENROLL);
        ExecutorService pool = Executors.newFixedThreadPool(threads, daemonThreads("storm"));
        ProgressLine progress = ProgressLine.start(out, terminal, n, recorder::progress);

        for (int t = 0; t < threads; t++) {
            pool.execute(() -> {
                while (System.nanoTime() < deadline) {
                    int i = next.getAndIncrement();
                    if (i >= n) {
                        return;
                    }
                    long begin = recorder.now();
                    try {
                        if (csrs[i] == null) {
                            throw new IllegalStateException("no CSR was prepared in time");
                        }
                        est.simpleEnroll(csrs[i]);
                        enroll.succeeded(begin);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        enroll.failed("INTERRUPTED", "stopped before the answer came");
                        return;
                    } catch (EstException | EnrollmentPendingException e) {
                        enroll.refused(failureKind(e), sample(e));
                    } catch (Exception e) {
                        enroll.failed(failureKind(e), sample(e));
                    }
                }
            });
        }
        pool.shutdown();
        long waitNanos = Math.max(0, deadline - System.nanoTime()) + REQUEST_TIMEOUTS.request().toNanos()
                + TimeUnit.SECONDS.toNanos(5);
        if (!pool.awaitTermination(waitNanos, TimeUnit.NANOSECONDS)) {
            pool.shutdownNow(); // interrupts the requests still waiting; they count as failed
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
        // Whatever did not end (never started, or still waiting when the time ran out) did not run.
        enroll.notRun(Math.max(0, n - recorder.progress().done()));
        progress.close();
        return recorder.finish();
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

    static String sample(Exception e) {
        String text = e instanceof EstException est ? est.reason() : String.valueOf(e.getMessage());
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
