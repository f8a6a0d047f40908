package io.fleetkey.server.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLSocketFactory;

import io.fleetkey.protocol.MqttTopics;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.MqttPingSender;
import org.eclipse.paho.mqttv5.client.internal.ClientComms;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * The load generator of {@link MqttEnrollmentBenchmark}: MQTT 5 device connections (Paho) to
 * the embedded broker's TLS listener, logged in as token devices (username = client id =
 * device id, no client certificate, TCP_NODELAY), and closed loops over them: each worker has
 * one request in flight and waits for its answer before it sends the next.
 *
 * <p>Every device has its own connection and client id, as a real device would; a connection
 * subscribes to its answers ({@code fleetkey/v1/est/{id}/+/res/#}) before it publishes. Paho
 * runs three threads per connection (receiver, sender, callback); its keep-alive timers share one
 * scheduler here instead of one {@code Timer} thread each. The device threads carry the device id
 * ({@code MQTT Rec: mqb-...}), which is how the CPU meter tells them from the server's own client.
 */
final class MqttLoad {
    /** Device ids start with this; Paho names its threads after the client id. */
    static final String DEVICE_PREFIX = "mqb";

    private MqttLoad() {
    }

    /** A registered device and its DER CSR (the one-time token in its challengePassword). */
    record Device(String id, byte[] csr) {
    }

    /** What came back for one request: the status (last topic level) and the payload; or a failure. */
    record Answer(String status, byte[] payload, long sentNanos, long arrivedNanos) {
    }

    /** The load generator's threads, among the CPU meter's thread groups. */
    static boolean isClientThread(String group) {
        return group.startsWith("bench-client") || group.contains(": " + DEVICE_PREFIX + "-");
    }

    // ---- connections ------------------------------------------------------------------------------

    /** One device's MQTT connection, with at most one request in flight. */
    static final class Connection implements MqttCallback {
        final Device device;
        private final MqttAsyncClient client;
        private final String answers;
        private volatile Pending pending;
        private long sequence;

        private Connection(Device device, MqttAsyncClient client) {
            this.device = device;
            this.client = client;
            this.answers = "fleetkey/v1/est/" + device.id() + "/";
        }

        /** Publishes one request (QoS 1) and waits for the answer to it. */
        Answer ask(String operation, byte[] payload, Duration timeout) throws InterruptedException {
            String requestId = "r" + Long.toString(sequence++, 36);
            Pending p = new Pending(answers + operation + "/res/" + requestId + "/");
            pending = p;
            MqttProperties properties = new MqttProperties();
            properties.setMessageExpiryInterval(60L); // as docs/mqtt-protocol.md recommends
            MqttMessage message = new MqttMessage(payload, 1, false, properties);
            long sent = System.nanoTime();
            try {
                client.publish(answers + operation + "/req/" + requestId, message);
            } catch (MqttException e) {
                pending = null;
                return new Answer("publish failed: " + e.getReasonCode(), null, sent, System.nanoTime());
            }
            if (!p.done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                pending = null;
                return new Answer(client.isConnected() ? "no answer in " + timeout.toSeconds() + " s"
                        : "connection lost", null, sent, System.nanoTime());
            }
            pending = null;
            return new Answer(p.status, p.payload, sent, p.arrived);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            Pending p = pending;
            if (p != null && topic.startsWith(p.prefix) && topic.indexOf('/', p.prefix.length()) < 0) {
                p.arrived = System.nanoTime();
                p.status = topic.substring(p.prefix.length());
                p.payload = message.getPayload();
                p.done.countDown();
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            Pending p = pending;
            if (p != null) {
                p.arrived = System.nanoTime();
                p.status = "disconnected by the broker: " + response.getReturnCode();
                p.done.countDown();
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        void close() {
            try {
                if (client.isConnected()) {
                    client.disconnect(0).waitForCompletion(5_000);
                }
            } catch (MqttException ignored) {
                // gone already
            }
            try {
                client.close(true);
            } catch (MqttException ignored) {
                // closed already
            }
        }

        private static final class Pending {
            final String prefix;
            final CountDownLatch done = new CountDownLatch(1);
            volatile long arrived;
            volatile String status;
            volatile byte[] payload;

            Pending(String prefix) {
                this.prefix = prefix;
            }
        }
    }

    /** The outcome of connecting a set of devices: who is connected, how long it took, what failed. */
    record Connected(List<Connection> connections, double seconds, double[] latencyMs, Map<String, Long> failures,
                     CpuMeter.Usage cpu) {
        double rate() {
            return connections.size() / seconds;
        }

        double percentile(double p) {
            return MqttLoad.percentile(latencyMs, p);
        }
    }

    /** Opens and manages device connections; one per benchmark run. */
    static final class Connector implements AutoCloseable {
        private final String uri;
        private final SSLSocketFactory tls;
        private final ScheduledExecutorService pings = Executors.newSingleThreadScheduledExecutor(
                named("bench-client-mqtt-ping", true));

        Connector(int tlsPort, SSLSocketFactory tls) {
            this.uri = "ssl://localhost:" + tlsPort;
            this.tls = tls;
        }

        /**
         * Connects every device over TLS (token login: username = client id = device id) and
         * subscribes it to its answers, {@code parallelism} at a time. A device that fails is
         * counted and left out.
         */
        Connected connect(List<Device> devices, int parallelism, CpuMeter cpu) throws InterruptedException {
            ExecutorService pool = Executors.newFixedThreadPool(parallelism, named("bench-client-connect", true));
            Connection[] done = new Connection[devices.size()];
            double[] ms = new double[devices.size()];
            Map<String, LongAdder> failures = new ConcurrentHashMap<>();
            CpuMeter.Snapshot before = cpu.snapshot();
            long t0 = System.nanoTime();
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < devices.size(); i++) {
                    int index = i;
                    futures.add(pool.submit(() -> {
                        long start = System.nanoTime();
                        try {
                            done[index] = open(devices.get(index));
                            ms[index] = (System.nanoTime() - start) / 1e6;
                        } catch (MqttException | RuntimeException e) {
                            String why = e instanceof MqttException m ? "MQTT reason " + m.getReasonCode() + " "
                                    + m.getMessage() : e.toString();
                            failures.computeIfAbsent(why, k -> new LongAdder()).increment();
                            ms[index] = Double.NaN;
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new IllegalStateException(e.getCause());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            CpuMeter.Usage usage = cpu.usage(before, cpu.snapshot());
            List<Connection> connections = new ArrayList<>();
            for (Connection c : done) {
                if (c != null) {
                    connections.add(c);
                }
            }
            double[] ok = Arrays.stream(ms).filter(v -> !Double.isNaN(v)).sorted().toArray();
            Map<String, Long> failed = new TreeMap<>();
            failures.forEach((k, v) -> failed.put(k, v.sum()));
            return new Connected(connections, seconds, ok, failed, usage);
        }

        private Connection open(Device device) throws MqttException {
            MqttAsyncClient client = new MqttAsyncClient(uri, device.id(), new MemoryPersistence(),
                    new SharedPingSender(pings), null);
            Connection connection = new Connection(device, client);
            client.setCallback(connection);
            MqttConnectionOptions options = new MqttConnectionOptions();
            options.setCleanStart(true);
            options.setUserName(device.id());
            options.setSocketFactory(tls);
            options.setConnectionTimeout(30);
            options.setKeepAliveInterval(60);
            options.setAutomaticReconnect(false);
            try {
                client.connect(options).waitForCompletion(30_000);
                IMqttToken subscribed = client.subscribe(new MqttSubscription(MqttTopics.deviceResponses(device.id()), 1));
                subscribed.waitForCompletion(30_000);
                int[] codes = subscribed.getReasonCodes();
                if (codes == null || codes.length == 0 || codes[0] > 2) {
                    throw new MqttException(new IllegalStateException("subscription refused: "
                            + (codes == null ? "no code" : Arrays.toString(codes))));
                }
                return connection;
            } catch (MqttException | RuntimeException e) {
                connection.close();
                throw e;
            }
        }

        /** Disconnects and closes every connection, {@code parallelism} at a time (Paho sleeps in both). */
        void closeAll(List<Connection> connections, int parallelism) throws InterruptedException {
            ExecutorService pool = Executors.newFixedThreadPool(parallelism, named("bench-client-close", true));
            for (Connection c : connections) {
                pool.execute(c::close);
            }
            pool.shutdown();
            pool.awaitTermination(5, TimeUnit.MINUTES);
        }

        @Override
        public void close() {
            pings.shutdownNow();
        }
    }

    /** Paho's keep-alive for many connections on one scheduler thread (Paho's default is a Timer thread each). */
    private static final class SharedPingSender implements MqttPingSender {
        private final ScheduledExecutorService scheduler;
        private volatile ClientComms comms;
        private volatile ScheduledFuture<?> next;

        SharedPingSender(ScheduledExecutorService scheduler) {
            this.scheduler = scheduler;
        }

        @Override
        public void init(ClientComms comms) {
            this.comms = comms;
        }

        @Override
        public void start() {
            schedule(comms.getKeepAlive());
        }

        @Override
        public void stop() {
            ScheduledFuture<?> f = next;
            if (f != null) {
                f.cancel(false);
            }
        }

        @Override
        public void schedule(long delayInMilliseconds) {
            if (delayInMilliseconds <= 0 || scheduler.isShutdown()) {
                return;
            }
            next = scheduler.schedule(() -> {
                comms.checkForActivity();
            }, delayInMilliseconds, TimeUnit.MILLISECONDS);
        }
    }

    // ---- closed loops -----------------------------------------------------------------------------

    /** One request of a worker: its answer, or null when there is no more work. */
    @FunctionalInterface
    interface Task {
        Answer run(int worker) throws InterruptedException;
    }

    /**
     * When the measured window lies. {@code untilExhausted}: it opens once {@code warmCount}
     * requests have been answered and closes when the work source hands out its last item
     * ({@code exhausted} turns true), so every worker is busy all through it. Otherwise it is
     * timed: {@code warm} then {@code measure}, after which the workers stop.
     */
    record Window(boolean untilExhausted, long warmCount, BooleanSupplier exhausted, Duration warm,
                  Duration measure) {
        static Window untilExhausted(long warmCount, BooleanSupplier exhausted) {
            return new Window(true, warmCount, exhausted, Duration.ZERO, Duration.ZERO);
        }

        static Window timed(Duration warm, Duration measure) {
            return new Window(false, 0, () -> false, warm, measure);
        }
    }

    /**
     * The measured window's numbers; {@code statuses} counts every answer of the whole phase (warm-up
     * and tail included) by status, so a single refusal anywhere shows.
     */
    record Result(String label, int workers, double seconds, long ok, Map<String, Long> statuses, String expected,
                  double[] latencyMs, long total, CpuMeter.Usage cpu, double clientCores, String window) {
        double rate() {
            return ok / seconds;
        }

        double percentile(double p) {
            return MqttLoad.percentile(latencyMs, p);
        }

        /** Answers (whole phase) with a status other than the expected one. */
        long failed() {
            return statuses.entrySet().stream().filter(e -> !e.getKey().equals(expected))
                    .mapToLong(Map.Entry::getValue).sum();
        }

        Map<String, Long> failures() {
            Map<String, Long> f = new TreeMap<>(statuses);
            f.remove(expected);
            return f;
        }

        /** This JVM's CPU per answered request in the window, apart from the load generator's threads (GC and JIT included). */
        double serverCpuMsPerOk() {
            return ok == 0 ? Double.NaN : (cpu.processCores() - clientCores) * cpu.seconds() * 1e3 / ok;
        }

        double clientCpuMsPerOk() {
            return ok == 0 ? Double.NaN : clientCores * cpu.seconds() * 1e3 / ok;
        }

        double clientShare() {
            return cpu.processCores() <= 0 ? Double.NaN : clientCores / cpu.processCores();
        }
    }

    /**
     * Runs {@code workers} closed loops of {@code task} until the work runs out (or the timed window
     * ends). Only requests answered inside the window count for rate and latency; CPU is metered
     * over the same window.
     */
    static Result closedLoop(String label, int workers, String threadPrefix, Task task, Window window,
                             String expected, CpuMeter cpu, Duration timeout) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder done = new LongAdder();
        Map<String, LongAdder> statuses = new ConcurrentHashMap<>();
        long[][] arrived = new long[workers][];
        long[][] latency = new long[workers][];
        int[] counts = new int[workers];
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            Thread t = new Thread(() -> {
                long[] at = new long[1024];
                long[] lat = new long[1024];
                int n = 0;
                try {
                    while (!stop.get()) {
                        Answer a = task.run(worker);
                        if (a == null) {
                            break;
                        }
                        statuses.computeIfAbsent(a.status(), k -> new LongAdder()).increment();
                        done.increment();
                        if (!a.status().equals(expected)) {
                            continue;
                        }
                        if (n == at.length) {
                            at = Arrays.copyOf(at, n * 2);
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        at[n] = a.arrivedNanos();
                        lat[n] = a.arrivedNanos() - a.sentNanos();
                        n++;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    statuses.computeIfAbsent("exception: " + e, k -> new LongAdder()).increment();
                } finally {
                    arrived[worker] = at;
                    latency[worker] = lat;
                    counts[worker] = n;
                }
            }, threadPrefix + "-" + w);
            t.setDaemon(true);
            threads.add(t);
        }

        long start = System.nanoTime();
        for (Thread t : threads) {
            t.start();
        }
        CpuMeter.Snapshot cpuStart = null;
        CpuMeter.Snapshot cpuEnd = null;
        long windowStart = 0;
        long windowEnd = 0;
        long nextProgress = start + TimeUnit.SECONDS.toNanos(5);
        long lastDone = 0;
        long lastChange = start;
        while (true) {
            long now = System.nanoTime();
            long d = done.sum();
            if (d != lastDone) {
                lastDone = d;
                lastChange = now;
            }
            boolean alive = threads.stream().anyMatch(Thread::isAlive);
            if (window.untilExhausted()) {
                if (cpuStart == null && (d >= window.warmCount() || window.exhausted().getAsBoolean() || !alive)) {
                    cpuStart = cpu.snapshot();
                    windowStart = cpuStart.nanos();
                }
                if (cpuStart != null && (window.exhausted().getAsBoolean() || !alive)) {
                    cpuEnd = cpu.snapshot();
                    windowEnd = cpuEnd.nanos();
                    break;
                }
            } else {
                if (cpuStart == null && now >= start + window.warm().toNanos()) {
                    cpuStart = cpu.snapshot();
                    windowStart = cpuStart.nanos();
                }
                if (cpuStart != null && (now >= windowStart + window.measure().toNanos() || !alive)) {
                    cpuEnd = cpu.snapshot();
                    windowEnd = cpuEnd.nanos();
                    stop.set(true);
                    break;
                }
            }
            if (now - lastChange > timeout.toNanos() + TimeUnit.SECONDS.toNanos(5)) {
                System.out.printf("  [%s] nothing answered for %.0f s; giving up%n", label, (now - lastChange) / 1e9);
                cpuStart = cpuStart == null ? cpu.snapshot() : cpuStart;
                cpuEnd = cpu.snapshot();
                windowStart = windowStart == 0 ? cpuStart.nanos() : windowStart;
                windowEnd = cpuEnd.nanos();
                stop.set(true);
                break;
            }
            if (now >= nextProgress) {
                System.out.printf("  [%s] %5.1f s: %d answered%n", label, (now - start) / 1e9, d);
                nextProgress += TimeUnit.SECONDS.toNanos(5);
            }
            Thread.sleep(2);
        }
        for (Thread t : threads) {
            t.join(timeout.toMillis() + 5_000);
            if (t.isAlive()) {
                stop.set(true);
                t.interrupt();
                t.join(5_000);
            }
        }
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        double[] ms = new double[total];
        int k = 0;
        for (int w = 0; w < workers; w++) {
            for (int i = 0; i < counts[w]; i++) {
                long at = arrived[w][i];
                if (at >= windowStart && at < windowEnd) {
                    ms[k++] = latency[w][i] / 1e6;
                }
            }
        }
        ms = Arrays.copyOf(ms, k);
        Arrays.sort(ms);
        CpuMeter.Usage usage = cpu.usage(cpuStart, cpuEnd);
        double clientCores = usage.groups().entrySet().stream().filter(e -> isClientThread(e.getKey()))
                .mapToDouble(Map.Entry::getValue).sum();
        Map<String, Long> byStatus = new TreeMap<>();
        statuses.forEach((s, v) -> byStatus.put(s, v.sum()));
        // Wall-clock times of the window, to find it in a JFR recording.
        java.time.LocalTime endWall = java.time.LocalTime.now().minusNanos(System.nanoTime() - windowEnd);
        java.time.LocalTime startWall = endWall.minusNanos(windowEnd - windowStart);
        return new Result(label, workers, Math.max(1e-9, (windowEnd - windowStart) / 1e9), k, byStatus, expected, ms,
                done.sum(), usage, clientCores, startWall.withNano(startWall.getNano() / 1_000_000 * 1_000_000) + "-"
                + endWall.withNano(endWall.getNano() / 1_000_000 * 1_000_000));
    }

    /** Hands out items once each, in order; {@link #exhausted()} once the last one is out. */
    static final class Once<T> {
        private final List<T> items;
        private final AtomicInteger next = new AtomicInteger();

        Once(List<T> items) {
            this.items = items;
        }

        T next() {
            int i = next.getAndIncrement();
            return i < items.size() ? items.get(i) : null;
        }

        boolean exhausted() {
            return next.get() >= items.size();
        }
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static ThreadFactory named(String prefix, boolean daemon) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }
}
