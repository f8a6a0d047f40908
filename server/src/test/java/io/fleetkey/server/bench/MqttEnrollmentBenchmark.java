package io.fleetkey.server.bench;

import static io.fleetkey.server.bench.BenchSupport.seconds;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import javax.net.ssl.SSLSocketFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.testing.MqttTestClient;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.LoggerFactory;

/**
 * EST over MQTT under load (docs/benchmarks.md, "EST over MQTT"): first enrollments per second
 * through the embedded broker with N concurrent device connections, beside, in the same JVM and
 * run, the raw Bouncy Castle ECDSA P-256 sign + verify rate and the enrollment core called
 * directly, so that the MQTT figure can be read as a ratio.
 *
 * <p>A real server with the embedded HiveMQ broker ({@code TestServer.withMqtt()}). For every
 * client count N: D devices are registered in bulk and get their token CSRs (outside the
 * measurement), then all D connect over TLS as token devices (username = client id = device id,
 * no client certificate) and subscribe to their answers, in a ramp before the measured part.
 * Then:
 * <ol>
 *   <li>{@code crts} ("broker only"): N of those connections ask for the CA certificates in a
 *       closed loop for a timed window: the broker, the server's listener and the reply path,
 *       without signing or database work;</li>
 *   <li>{@code sen}: N workers take the connected devices one after another, each publishes its
 *       token CSR (QoS 1) and waits for the answer before the worker takes the next device. The
 *       window opens after the first share of the answers (JIT and pools settled) and closes when
 *       the last device is handed out, so N requests are in flight all through it.</li>
 * </ol>
 * Every answer of every phase is counted by status; anything but 2.04 (2.05 for crts) is a
 * failure. One certificate in 16 is parsed and checked to name its device.
 *
 * <p>The JIT takes minutes on these paths with two cores, so the run starts with an unreported
 * warm-up and goes through the list of client counts twice; both passes are reported, the second
 * is the one to read. The yardsticks are measured before the first pass and after the last.
 *
 * <p>Options, as {@code --name value} arguments or {@code -Dmqttbench.name=value} system
 * properties: devices (2000 per client count and pass), clients (8,32,128), passes (2),
 * warm-share (0.2 of the answers before the window), crts-warmup and crts-measure (2 and 6 s),
 * connect-parallelism (64), timeout (30 s); for the warm-up jit-core-devices (8000, enrolled
 * through the core directly with 2 threads), jit-rounds (1), jit-crts-seconds (15) and
 * jit-devices (2000, enrolled over MQTT); for the yardsticks core-devices (3000 per thread count),
 * core-threads (1,2), crypto-warmup and crypto-measure (3 and 5 s), crypto-threads (1,2);
 * server-properties (name=value,... on top of the test server's settings).
 */
public final class MqttEnrollmentBenchmark {
    private static final String ACTOR = "benchmark";
    private static final String GROUP = "bench-mqtt";

    private final Options options;
    private final CpuMeter cpu = new CpuMeter();
    private final AtomicInteger deviceCounter = new AtomicInteger();

    private TestServer server;
    private FleetService fleet;
    private EnrollmentService enrollment;
    private MqttLoad.Connector connector;

    private MqttEnrollmentBenchmark(Options options) {
        this.options = options;
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            new MqttEnrollmentBenchmark(Options.parse(args)).run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status); // Micronaut, HiveMQ and Paho leave non-daemon threads behind
    }

    private void run() throws Exception {
        String started = CpuMeter.machineLine();
        System.out.println(started);
        Map<String, Object> props = new HashMap<>(TestServer.withMqtt());
        props.putAll(options.serverProperties);
        long t0 = System.nanoTime();
        server = TestServer.start(props);
        System.out.printf("server with the embedded broker started in %.1f s; data in %s (log: fleetkey.log)%n",
                (System.nanoTime() - t0) / 1e9, server.dataDir());
        try {
            setUp();
            warmUpJit();
            Yardsticks before = yardsticks("start");
            List<List<Row>> passes = new ArrayList<>();
            for (int pass = 1; pass <= options.passes; pass++) {
                List<Row> rows = new ArrayList<>();
                for (int n : options.clients) {
                    rows.add(measure(n, pass));
                }
                passes.add(rows);
            }
            Yardsticks after = yardsticks("end");
            report(started, before, after, passes);
        } finally {
            if (connector != null) {
                connector.close();
            }
            Path dataDir = server.dataDir();
            server.close();
            BenchSupport.deleteTree(dataDir);
        }
    }

    private void setUp() {
        IssuanceBenchmark.coreLogToFile(server.dataDir());
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger("com.hivemq").setLevel(Level.WARN);
        fleet = server.context().getBean(FleetService.class);
        enrollment = server.context().getBean(EnrollmentService.class);
        fleet.createGroup(GROUP, new FleetService.GroupChange("device", null, false, null), ACTOR);
        X509Certificate root = server.caChain().get(server.caChain().size() - 1);
        SSLSocketFactory tls = MqttTestClient.sslFactory(root, null, null); // TCP_NODELAY, trusts the root only
        connector = new MqttLoad.Connector(server.mqttsPort(), tls);
        FleetkeyConfiguration config = server.context().getBean(FleetkeyConfiguration.class);
        System.out.printf("JCE providers: %s; crypto provider setting %s; listener max-in-flight %d; "
                        + "mqtts://localhost:%d%n",
                Arrays.stream(Security.getProviders()).limit(3).map(p -> p.getName()).toList(),
                config.getCryptoProvider(), config.getMqtt().getMaxInFlight(), server.mqttsPort());
    }

    // ---- the MQTT door ---------------------------------------------------------------------------

    /**
     * The JIT needs tens of seconds on these paths (Bouncy Castle, H2, HiveMQ, Netty, Paho, TLS):
     * the core is driven directly first (no connections needed), then the MQTT paths with one set
     * of connections: crts for a while, then every device enrolls once. Nothing here is reported.
     */
    private void warmUpJit() throws Exception {
        if (options.jitCoreDevices > 0) {
            core(2, options.jitCoreDevices, "JIT warm-up: core");
        }
        if (options.jitDevices <= 0) {
            return;
        }
        int n = Math.min(32, options.jitDevices / 4);
        for (int round = 1; round <= options.jitRounds; round++) {
            System.out.printf("%n---- JIT warm-up: MQTT round %d of %d (%s): %d devices, %d workers, nothing "
                    + "reported%n", round, options.jitRounds, now(), options.jitDevices, n);
            List<MqttLoad.Device> devices = devices(options.jitDevices);
            MqttLoad.Connected connected = connector.connect(devices, options.connectParallelism, cpu);
            printConnected(connected, devices.size());
            List<MqttLoad.Connection> c = connected.connections();
            printResult(crts(c.subList(0, n), seconds(2), seconds(options.jitCrtsSeconds)));
            printResult(sen(c, n));
            connector.closeAll(c, options.connectParallelism);
        }
    }

    /** The yardsticks, measured at the start and again at the end of the run: raw ECDSA and the core alone. */
    private record Yardsticks(String when, List<Rate> raw, List<MqttLoad.Result> core) {
        Rate raw(int threads) {
            return raw.stream().filter(r -> r.threads() == threads).findFirst().orElse(null);
        }

        MqttLoad.Result core(int threads) {
            return core.stream().filter(r -> r.workers() == threads).findFirst().orElse(null);
        }
    }

    private Yardsticks yardsticks(String when) throws Exception {
        List<Rate> raws = new ArrayList<>();
        for (int t : options.cryptoThreads) {
            raws.add(rawSignVerify(t));
        }
        List<MqttLoad.Result> cores = new ArrayList<>();
        for (int t : options.coreThreads) {
            cores.add(core(t));
        }
        return new Yardsticks(when, raws, cores);
    }

    private Row measure(int n, int pass) throws Exception {
        System.out.printf("%n---- N = %d, pass %d of %d (%s): %d devices, load average %s%n", n, pass, options.passes,
                now(), options.devices, CpuMeter.loadAverage());
        long t0 = System.nanoTime();
        List<MqttLoad.Device> devices = devices(options.devices);
        System.out.printf("  registered %d devices and made their CSRs in %.1f s (outside the measurement)%n",
                devices.size(), (System.nanoTime() - t0) / 1e9);
        MqttLoad.Connected connected = connector.connect(devices, options.connectParallelism, cpu);
        printConnected(connected, devices.size());
        List<MqttLoad.Connection> c = connected.connections();
        if (c.size() < n) {
            throw new IllegalStateException("only " + c.size() + " of " + devices.size() + " devices connected");
        }
        System.gc();
        MqttLoad.Result crts = crts(c.subList(0, n), seconds(options.crtsWarmup), seconds(options.crtsMeasure));
        printResult(crts);
        MqttLoad.Result sen = sen(c, n);
        printResult(sen);
        long t1 = System.nanoTime();
        connector.closeAll(c, options.connectParallelism);
        System.out.printf("  closed %d connections in %.1f s%n", c.size(), (System.nanoTime() - t1) / 1e9);
        return new Row(n, devices.size(), connected, crts, sen);
    }

    /** N connections asking for the CA certificates over and over: the broker and listener path alone. */
    private MqttLoad.Result crts(List<MqttLoad.Connection> connections, Duration warm, Duration measure)
            throws InterruptedException {
        byte[] empty = new byte[0];
        Duration timeout = seconds(options.timeout);
        return MqttLoad.closedLoop("crts N=" + connections.size(), connections.size(), "bench-client-crts",
                worker -> connections.get(worker).ask("crts", empty, timeout), MqttLoad.Window.timed(warm, measure),
                "2.05", cpu, timeout);
    }

    /** Every connected device enrolls once, N at a time. */
    private MqttLoad.Result sen(List<MqttLoad.Connection> connections, int n) throws InterruptedException {
        MqttLoad.Once<MqttLoad.Connection> pool = new MqttLoad.Once<>(connections);
        Duration timeout = seconds(options.timeout);
        AtomicLong checked = new AtomicLong();
        long warm = Math.round(options.warmShare * connections.size());
        return MqttLoad.closedLoop("sen N=" + n, n, "bench-client-sen", worker -> {
            MqttLoad.Connection c = pool.next();
            if (c == null) {
                return null;
            }
            MqttLoad.Answer a = c.ask("sen", c.device.csr(), timeout);
            if (a.status().equals("2.04") && checked.getAndIncrement() % 16 == 0
                    && !BenchSupport.isCertificateFor(a.payload(), c.device.id())) {
                return new MqttLoad.Answer("2.04 with an unexpected body", null, a.sentNanos(), a.arrivedNanos());
            }
            return a;
        }, MqttLoad.Window.untilExhausted(warm, pool::exhausted), "2.04", cpu, timeout);
    }

    // ---- the yardsticks --------------------------------------------------------------------------

    /** The enrollment core called directly, as the MQTT door calls it (token in the CSR, channel names the device). */
    private MqttLoad.Result core(int threads) throws Exception {
        return core(threads, options.coreDevices, "core " + threads + " thread" + (threads == 1 ? "" : "s"));
    }

    private MqttLoad.Result core(int threads, int count, String label) throws Exception {
        System.out.printf("%n---- %s (%s): %d devices, EnrollmentService.enroll in this JVM, no MQTT%n", label, now(),
                count);
        List<MqttLoad.Device> devices = devices(count);
        MqttLoad.Once<MqttLoad.Device> pool = new MqttLoad.Once<>(devices);
        long warm = Math.round(options.warmShare * count);
        MqttLoad.Result r = MqttLoad.closedLoop(label, threads, "bench-core", worker -> {
            MqttLoad.Device d = pool.next();
            if (d == null) {
                return null;
            }
            long sent = System.nanoTime();
            EnrollmentResult result = enrollment.enroll(Door.MQTT, d.csr(), new ChannelProof.Named(d.id(), true));
            String status = result instanceof EnrollmentResult.Issued i && !i.repeated() ? "issued"
                    : result.getClass().getSimpleName() + " " + result;
            return new MqttLoad.Answer(status, null, sent, System.nanoTime());
        }, MqttLoad.Window.untilExhausted(warm, pool::exhausted), "issued", cpu, seconds(options.timeout));
        printResult(r);
        return r;
    }

    /** A rate measured in a tight loop. */
    record Rate(String label, int threads, double perSecond) {
    }

    /**
     * Raw Bouncy Castle ECDSA P-256, as {@code RawEcdsaBenchmark.signAndVerify}: decode a public key
     * never seen before and verify a CSR signature with it, then sign with one fixed key.
     */
    private Rate rawSignVerify(int threads) throws Exception {
        String[] ids = new String[1024];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = String.format("raw-%07d", i);
        }
        byte[][] csrs = IssuanceBenchmark.ecP256Csrs(ids);
        byte[][] messages = new byte[csrs.length][];
        byte[][] keys = new byte[csrs.length][];
        byte[][] signatures = new byte[csrs.length][];
        for (int i = 0; i < csrs.length; i++) {
            PKCS10CertificationRequest csr = new PKCS10CertificationRequest(csrs[i]);
            messages[i] = csr.toASN1Structure().getCertificationRequestInfo().getEncoded("DER");
            keys[i] = csr.getSubjectPublicKeyInfo().getEncoded("DER");
            signatures[i] = csr.getSignature();
        }
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", CryptoProvider.bouncyCastle());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ca = generator.generateKeyPair();
        long warmNanos = seconds(options.cryptoWarmup).toNanos();
        long measureNanos = seconds(options.cryptoMeasure).toNanos();
        LongAdder ops = new LongAdder();
        long start = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    Signature signer = Signature.getInstance("SHA256withECDSA", CryptoProvider.bouncyCastle());
                    Signature verifier = Signature.getInstance("SHA256withECDSA", CryptoProvider.bouncyCastle());
                    KeyFactory factory = KeyFactory.getInstance("EC", CryptoProvider.bouncyCastle());
                    signer.initSign(ca.getPrivate());
                    int i = 0;
                    while (true) {
                        long now = System.nanoTime();
                        if (now >= start + warmNanos + measureNanos) {
                            break;
                        }
                        int k = i++ & (messages.length - 1);
                        PublicKey key = factory.generatePublic(new X509EncodedKeySpec(keys[k]));
                        verifier.initVerify(key);
                        verifier.update(messages[k]);
                        if (!verifier.verify(signatures[k])) {
                            throw new IllegalStateException("CSR " + k + " does not verify");
                        }
                        signer.update(messages[k]);
                        signer.sign();
                        if (now >= start + warmNanos) {
                            ops.increment();
                        }
                    }
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }, "bench-raw-ecdsa-" + t);
            workers.add(worker);
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) {
            w.join();
        }
        Rate r = new Rate("raw BC sign + verify", threads, ops.sum() / (measureNanos / 1e9));
        System.out.printf(Locale.ROOT, "%n---- %s, %d thread%s (%s): %.0f/s (%.0f s measured after %.0f s)%n",
                r.label(), threads, threads == 1 ? "" : "s", now(), r.perSecond(), options.cryptoMeasure,
                options.cryptoWarmup);
        return r;
    }

    // ---- devices ---------------------------------------------------------------------------------

    /** Registered in bulk (as the bulk API does), each with its own P-256 key and token CSR, CN = the id. */
    private List<MqttLoad.Device> devices(int count) {
        int from = deviceCounter.getAndAdd(count);
        String[] ids = new String[count];
        for (int i = 0; i < count; i++) {
            ids[i] = String.format("%s-%07d", MqttLoad.DEVICE_PREFIX, from + i);
        }
        String[] tokens = new String[count];
        for (int start = 0; start < count; start += FleetService.MAX_BULK) {
            int end = Math.min(count, start + FleetService.MAX_BULK);
            List<FleetService.Registration> done = fleet.register(Arrays.asList(ids).subList(start, end), GROUP, ACTOR);
            for (int i = 0; i < done.size(); i++) {
                tokens[start + i] = done.get(i).enrollmentToken();
            }
        }
        MqttLoad.Device[] devices = new MqttLoad.Device[count];
        IntStream.range(0, count).parallel().forEach(i ->
                devices[i] = new MqttLoad.Device(ids[i], TestPki.csrWithToken(ids[i], TestPki.p256(), tokens[i])));
        return List.of(devices);
    }


    // ---- reporting -------------------------------------------------------------------------------

    private record Row(int clients, int devices, MqttLoad.Connected connected, MqttLoad.Result crts,
                       MqttLoad.Result sen) {
    }

    private static void printConnected(MqttLoad.Connected c, int asked) {
        CpuMeter.Usage u = c.cpu();
        System.out.printf(Locale.ROOT, "  connected %d of %d devices (TLS, CONNECT, SUBSCRIBE) in %.1f s: %.0f/s, "
                        + "p50 %.0f ms, p99 %.0f ms; this JVM %.2f cores, other processes %.2f; failures %s%n",
                c.connections().size(), asked, c.seconds(), c.rate(), c.percentile(0.5), c.percentile(0.99),
                u.processCores(), u.otherCores(), c.failures().isEmpty() ? "none" : c.failures());
    }

    private static void printResult(MqttLoad.Result r) {
        CpuMeter.Usage u = r.cpu();
        System.out.printf(Locale.ROOT, "  => %s [%s]: %.1f/s (%d in %.2f s), latency ms p50 %.1f p90 %.1f p99 %.1f max %.1f; "
                        + "answers %d, by status %s%n", r.label(), r.window(), r.rate(), r.ok(), r.seconds(), r.percentile(0.5),
                r.percentile(0.9), r.percentile(0.99), r.percentile(1.0), r.total(), r.statuses());
        System.out.printf(Locale.ROOT, "     CPU: this JVM %.2f cores (load generator %.2f = %.0f%%; JIT %.2f; GC pauses "
                        + "%.1f%%), other processes %.2f, steal %.2f; server CPU %.2f ms per answer, load generator "
                        + "%.2f ms%n", u.processCores(), r.clientCores(), 100 * r.clientShare(), u.jitCores(),
                100 * u.gcPauseShare(), u.otherCores(), u.stealCores(), r.serverCpuMsPerOk(), r.clientCpuMsPerOk());
        long ioThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("io-executor-thread")).count();
        System.out.printf("     server io-executor threads alive afterwards (idle ones live 60 s): %d%n", ioThreads);
        StringBuilder top = new StringBuilder("     by thread (cores): ");
        u.groups().entrySet().stream().limit(12).forEach(e ->
                top.append(String.format(Locale.ROOT, "%s %.2f; ", e.getKey(), e.getValue())));
        System.out.println(top);
    }

    private void report(String started, Yardsticks before, Yardsticks after, List<List<Row>> passes) {
        System.out.println();
        System.out.println("==== EST over MQTT: " + started);
        System.out.println("     ended " + CpuMeter.machineLine());
        System.out.println();
        System.out.println("| yardstick (same JVM, same run) | threads | start of run: per second | end of run: per "
                + "second | mean | p50 / p99 ms (start, end) | server CPU ms per op (start, end) | failures |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int t : options.cryptoThreads) {
            Rate a = before.raw(t);
            Rate b = after.raw(t);
            System.out.printf(Locale.ROOT, "| raw BC ECDSA P-256 sign + verify (fresh key) | %d | %,.0f | %,.0f | %,.0f "
                    + "| | | |%n", t, a.perSecond(), b.perSecond(), mean(a.perSecond(), b.perSecond()));
        }
        for (int t : options.coreThreads) {
            MqttLoad.Result a = before.core(t);
            MqttLoad.Result b = after.core(t);
            System.out.printf(Locale.ROOT, "| enrollment core, no MQTT (`EnrollmentService.enroll`) | %d | %,.0f | %,.0f "
                            + "| %,.0f | %.1f / %.1f, %.1f / %.1f | %.2f, %.2f | %d |%n", t, a.rate(), b.rate(),
                    mean(a.rate(), b.rate()), a.percentile(0.5), a.percentile(0.99), b.percentile(0.5),
                    b.percentile(0.99), a.serverCpuMsPerOk(), b.serverCpuMsPerOk(), a.failed() + b.failed());
        }
        double raw1 = before.raw(1) == null ? Double.NaN : mean(before.raw(1).perSecond(), after.raw(1).perSecond());
        int most = options.cryptoThreads.stream().mapToInt(Integer::intValue).max().orElse(1);
        double rawMost = mean(before.raw(most).perSecond(), after.raw(most).perSecond());
        int coreMost = options.coreThreads.stream().mapToInt(Integer::intValue).max().orElse(1);
        double core = mean(before.core(coreMost).rate(), after.core(coreMost).rate());
        for (int pass = 1; pass <= passes.size(); pass++) {
            List<Row> rows = passes.get(pass - 1);
            System.out.println();
            System.out.printf("Pass %d of %d:%n%n", pass, passes.size());
            System.out.printf("| N | devices | enrollments/s | p50 / p90 / p99 / max ms | non-2.04 | ÷ raw sign+verify "
                    + "(1 / %d threads) | ÷ core (%d thread%s) | server CPU ms per enrollment | load generator CPU ms "
                    + "per enrollment | JIT, other procs (cores) | crts/s (broker only) | crts p50 / p99 ms | server "
                    + "CPU ms per crts | connects/s (ramp) |%n", most, coreMost, coreMost == 1 ? "" : "s");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (Row row : rows) {
                MqttLoad.Result s = row.sen();
                MqttLoad.Result c = row.crts();
                System.out.printf(Locale.ROOT, "| %d | %d | **%,.0f** | %.0f / %.0f / %.0f / %.0f | %d%s | %.2f / %.2f "
                                + "| %.2f | %.2f | %.2f | %.2f, %.2f | %,.0f | %.1f / %.1f | %.2f | %.0f |%n",
                        row.clients(), row.devices(), s.rate(), s.percentile(0.5), s.percentile(0.9),
                        s.percentile(0.99), s.percentile(1.0), s.failed(),
                        c.failed() == 0 ? "" : " (crts: " + c.failed() + ")", s.rate() / raw1, s.rate() / rawMost,
                        s.rate() / core, s.serverCpuMsPerOk(), s.clientCpuMsPerOk(), s.cpu().jitCores(),
                        s.cpu().otherCores(), c.rate(), c.percentile(0.5), c.percentile(0.99), c.serverCpuMsPerOk(),
                        row.connected().rate());
            }
            for (Row row : rows) {
                if (!row.sen().failures().isEmpty() || !row.crts().failures().isEmpty()
                        || !row.connected().failures().isEmpty()) {
                    System.out.printf("N=%d failures: sen %s, crts %s, connect %s%n", row.clients(),
                            row.sen().failures(), row.crts().failures(), row.connected().failures());
                }
            }
        }
        System.out.println();
        System.out.println("Ratios use the mean of the start and end yardsticks. Every answer of every phase (warm-ups "
                + "and tails included) is counted by status in the lines above the tables.");
    }

    private static double mean(double a, double b) {
        return (a + b) / 2;
    }


    private static String now() {
        return LocalTime.now().withNano(0).toString();
    }



    // ---- options ---------------------------------------------------------------------------------

    private static final class Options {
        int devices = 2000;
        List<Integer> clients = List.of(8, 32, 128);
        double warmShare = 0.2;
        double crtsWarmup = 2;
        double crtsMeasure = 6;
        int connectParallelism = 64;
        int jitDevices = 2000;
        int jitCoreDevices = 8000;
        int jitRounds = 1;
        int passes = 2;
        double jitCrtsSeconds = 15;
        int coreDevices = 3000;
        List<Integer> coreThreads = List.of(1, 2);
        double cryptoWarmup = 3;
        double cryptoMeasure = 5;
        List<Integer> cryptoThreads = List.of(1, 2);
        double timeout = 30;
        Map<String, Object> serverProperties = Map.of();

        static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (String name : List.of("devices", "clients", "warm-share", "crts-warmup", "crts-measure",
                    "connect-parallelism", "passes", "jit-devices", "jit-rounds", "jit-core-devices",
                    "jit-crts-seconds", "core-devices", "core-threads", "crypto-warmup", "crypto-measure",
                    "crypto-threads", "timeout", "server-properties")) {
                String v = System.getProperty("mqttbench." + name);
                if (v != null) {
                    values.put(name, v);
                }
            }
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("arguments are --name value pairs; got '" + args[i] + "'");
                }
                values.put(args[i].substring(2), args[++i]);
            }
            Options o = new Options();
            values.forEach((name, v) -> {
                switch (name) {
                    case "devices" -> o.devices = Integer.parseInt(v);
                    case "clients" -> o.clients = ints(v);
                    case "warm-share" -> o.warmShare = Double.parseDouble(v);
                    case "crts-warmup" -> o.crtsWarmup = Double.parseDouble(v);
                    case "crts-measure" -> o.crtsMeasure = Double.parseDouble(v);
                    case "connect-parallelism" -> o.connectParallelism = Integer.parseInt(v);
                    case "jit-devices" -> o.jitDevices = Integer.parseInt(v);
                    case "jit-core-devices" -> o.jitCoreDevices = Integer.parseInt(v);
                    case "jit-rounds" -> o.jitRounds = Integer.parseInt(v);
                    case "passes" -> o.passes = Integer.parseInt(v);
                    case "jit-crts-seconds" -> o.jitCrtsSeconds = Double.parseDouble(v);
                    case "core-devices" -> o.coreDevices = Integer.parseInt(v);
                    case "core-threads" -> o.coreThreads = ints(v);
                    case "crypto-warmup" -> o.cryptoWarmup = Double.parseDouble(v);
                    case "crypto-measure" -> o.cryptoMeasure = Double.parseDouble(v);
                    case "crypto-threads" -> o.cryptoThreads = ints(v);
                    case "timeout" -> o.timeout = Double.parseDouble(v);
                    case "server-properties" -> o.serverProperties = BenchSupport.serverProperties(v);
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            });
            for (int n : o.clients) {
                if (o.devices < 4 * n) {
                    throw new IllegalArgumentException("devices (" + o.devices + ") must be at least 4 x clients ("
                            + n + ")");
                }
            }
            return o;
        }

        private static List<Integer> ints(String v) {
            return Stream.of(v.split(",")).map(String::trim).map(Integer::parseInt).toList();
        }
    }
}
