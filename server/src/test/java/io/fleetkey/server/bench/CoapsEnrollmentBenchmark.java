package io.fleetkey.server.bench;

import static io.fleetkey.server.bench.BenchSupport.seconds;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import ch.qos.logback.classic.LoggerContext;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.authority.ServerIdentity;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import io.fleetkey.server.transport.coap.CoapsDoor;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.dtls.ResumptionSupportingConnectionStore;
import org.slf4j.LoggerFactory;

/**
 * EST over CoAP/DTLS (RFC 9148) under load: enrollments per second with N concurrent DTLS
 * clients, each enrollment a full handshake plus POST /.well-known/est/sen, beside the rate of
 * the same clients against a bare Scandium server with the door's DTLS settings, in the same
 * JVM and run. See {@code docs/benchmarks.md}.
 *
 * <p>By default one JVM is forked per JCE mode ({@code --providers JDK,BC}): Californium reads
 * {@code CALIFORNIUM_JCE_PROVIDER} once per JVM (BC puts Bouncy Castle first, JVM-wide), so each
 * mode gets its own process with the variable set or removed. Inside a fork, after a JIT warm-up,
 * for every client count and variant: rounds of a raw-handshake slice then an enrollment slice,
 * each slice with its own warm-up and measured window; the slices of a kind are added up.
 * Variants: {@code token} (no client certificate, the one-time token in the CSR's
 * challengePassword) and {@code idevid} (a factory certificate under a maker CA registered on the
 * group, so the handshake verifies a client chain).
 *
 * <p>Options ({@code --name value}): providers (JDK,BC), clients (8,32,64), variants (token,idevid),
 * rounds (3), warmup and measure (seconds per slice: 3, 7), jit-warmup (60 s), timeout (30 s),
 * client-threads (2), progress (10 s), jvm-args ("-Xms1g -Xmx1g"), no-fork (flag: run here, with
 * this JVM's CALIFORNIUM_JCE_PROVIDER), server-properties (name=value,... on top of the test
 * server's settings, e.g. fleetkey.coaps.max-connections=3000; the raw server reads the same).
 */
public final class CoapsEnrollmentBenchmark {
    private static final String MAIN = CoapsEnrollmentBenchmark.class.getName();
    private static final String JCE_VARIABLE = "CALIFORNIUM_JCE_PROVIDER";
    private static final String ACTOR = "benchmark";
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private final Options options;
    private final String provider;
    private final CpuMeter cpu = new CpuMeter();
    private final List<Row> rows = new ArrayList<>();
    private final AtomicInteger deviceCounter = new AtomicInteger();

    private TestServer server;
    private FleetService fleet;
    private TestPki.Ca maker;
    private BareScandiumServer raw;
    private Configuration clientCoap;
    private X509Certificate serverLeaf;
    private DTLSConnector doorConnector;
    private int maxConnections;

    private CoapsEnrollmentBenchmark(Options options, String provider) {
        this.options = options;
        this.provider = provider;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        if (options.child != null || options.noFork) {
            String provider = options.child != null ? options.child
                    : System.getenv(JCE_VARIABLE) == null ? "JDK" : System.getenv(JCE_VARIABLE);
            int status = 0;
            try {
                new CoapsEnrollmentBenchmark(options, provider).runHere();
            } catch (Throwable t) {
                t.printStackTrace();
                status = 1;
            }
            System.exit(status); // Micronaut and Californium leave non-daemon threads behind
        }
        System.exit(fork(options, args));
    }

    // ---- the parent: one JVM per JCE mode -----------------------------------------------------

    private static int fork(Options options, String[] args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<Path> results = new ArrayList<>();
        for (String provider : options.providers) {
            Path result = Files.createTempFile("coaps-bench-" + provider + "-", ".tsv");
            results.add(result);
            List<String> command = new ArrayList<>();
            command.add(java);
            command.addAll(Arrays.asList(options.jvmArgs.trim().split("\\s+")));
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), MAIN));
            command.addAll(Arrays.asList(args));
            command.addAll(List.of("--child", provider, "--result-file", result.toString()));
            ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
            if (provider.equals("JDK")) {
                pb.environment().remove(JCE_VARIABLE);
            } else {
                pb.environment().put(JCE_VARIABLE, provider);
            }
            System.out.printf("%n==== fork: %s=%s, %s%n", JCE_VARIABLE, provider.equals("JDK") ? "(unset)" : provider,
                    options.jvmArgs);
            int status = pb.start().waitFor();
            if (status != 0) {
                System.out.println("the " + provider + " fork failed with status " + status);
                for (Path r : results) {
                    Files.deleteIfExists(r);
                }
                return status;
            }
        }
        System.out.println();
        System.out.println("==== all forks: EST-coaps enrollments vs raw DTLS handshakes");
        System.out.println(Row.HEADER);
        for (Path result : results) {
            for (String line : Files.readAllLines(result)) {
                System.out.println(line);
            }
            Files.deleteIfExists(result);
        }
        return 0;
    }

    // ---- one JVM, one JCE mode --------------------------------------------------------------------

    private void runHere() throws Exception {
        System.out.printf("%s  java %s, %d cores, %s=%s, CPU pressure (some avg10) %.1f%%%n",
                LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), JCE_VARIABLE, System.getenv(JCE_VARIABLE),
                CpuMeter.cpuPressureAvg10());
        server = TestServer.start(options.serverProperties);
        try {
            setUp();
            warmUpJit();
            for (int n : options.clients) {
                for (String variant : options.variants) {
                    measure(variant, n);
                }
            }
            report();
        } finally {
            if (raw != null) {
                raw.close();
            }
            Path dataDir = server.dataDir();
            server.close();
            BenchSupport.deleteTree(dataDir);
        }
    }

    private void setUp() throws Exception {
        configureLogging(server.dataDir());
        CoapConfig.register();
        DtlsConfig.register();
        clientCoap = new Configuration();
        fleet = server.context().getBean(FleetService.class);
        ServerIdentity identity = server.context().getBean(ServerIdentity.class);
        FleetkeyConfiguration config = server.context().getBean(FleetkeyConfiguration.class);
        serverLeaf = identity.chain().get(0);
        // The server has touched Californium by now, so its JCE set-up has run: check it is the mode asked for.
        boolean bcFirst = Security.getProviders()[0].getName().equals("BC");
        if (bcFirst != provider.startsWith("BC")) {
            throw new IllegalStateException("JCE mode " + provider + " was asked for, but the first provider is "
                    + Security.getProviders()[0].getName() + "; set or unset " + JCE_VARIABLE + " accordingly");
        }
        System.out.printf("JCE providers: %s; server key %s (%s)%n",
                Arrays.stream(Security.getProviders()).limit(3).map(p -> p.getName()).toList(),
                identity.key().getAlgorithm(), identity.key().getClass().getName());

        maker = TestPki.ca("Bench Maker CA");
        fleet.createGroup("bench-token", new FleetService.GroupChange("device", null, false, null), ACTOR);
        fleet.createGroup("bench-idevid", new FleetService.GroupChange("device", List.of(maker.certificate()), false,
                null), ACTOR);

        // The raw server answers with a real certificate's certs-only body, issued here by the core.
        Pool one = tokenDevices(1);
        EnrollmentResult issued = server.context().getBean(EnrollmentService.class).enroll(Door.COAPS, one.devices[0].csr(),
                new ChannelProof.None());
        if (!(issued instanceof EnrollmentResult.Issued i)) {
            throw new IllegalStateException("the set-up enrollment failed: " + issued);
        }
        byte[] answer = Certificates.toPkcs7CertsOnly(List.of(i.certificate()));

        raw = new BareScandiumServer(config, identity.key(), identity.chain(), maker.certificate(), answer);
        maxConnections = config.getCoaps().getMaxConnections();
        try { // the door's connector, for the connection count in the report only
            java.lang.reflect.Field field = CoapsDoor.class.getDeclaredField("connector");
            field.setAccessible(true);
            doorConnector = (DTLSConnector) field.get(server.context().getBean(CoapsDoor.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        cpu.namePort(server.coapsPort(), "<door>");
        cpu.namePort(raw.port(), "<raw>");
        System.out.printf("door coaps://127.0.0.1:%d, raw Scandium coaps://127.0.0.1:%d, answer %d bytes, server chain "
                        + "sent: %d certificates%n", server.coapsPort(), raw.port(), answer.length,
                config.getCoaps().isSendIssuingCa() ? Math.min(2, identity.chain().size()) : 1);
    }

    private void warmUpJit() throws Exception {
        if (options.jitWarmup <= 0) {
            return;
        }
        int n = options.clients.get(0);
        double each = (double) options.jitWarmup / (2 * options.variants.size());
        System.out.printf("%nJIT warm-up: %.0f s, %d clients, nothing reported%n", options.jitWarmup, n);
        for (String variant : options.variants) {
            boolean certs = variant.equals("idevid");
            Pool sample = pool(variant, 200);
            DtlsLoad.Settings s = settings(n, 0, each);
            DtlsLoad.run("jit raw " + variant, rawAddress(), serverLeaf, certs, sample.cycling(), s, clientCoap, cpu,
                    a -> true);
            Pool devices = pool(variant, (int) (each * 800) + 200);
            DtlsLoad.run("jit enroll " + variant, doorAddress(), serverLeaf, certs, devices.once(), s, clientCoap, cpu,
                    a -> true);
        }
    }

    /**
     * Raw handshakes and enrollments in alternating slices (raw, enroll, raw, enroll, ...), so that
     * other load on the machine falls on both about equally; each slice has its own short warm-up.
     */
    private void measure(String variant, int n) throws Exception {
        boolean certs = variant.equals("idevid");
        DtlsLoad.Settings s = settings(n, options.warmup, options.measure);
        System.out.printf("%n---- %s, %d clients (%s), %s, %d rounds of raw then enroll%n", variant, n, provider,
                java.time.LocalTime.now().withNano(0), options.rounds);
        Pool sample = pool(variant, 500);
        AtomicLong checked = new AtomicLong();
        Predicate<DtlsLoad.Answer> issuedToDevice = a -> checked.getAndIncrement() % 16 != 0
                || BenchSupport.isCertificateFor(a.response().getPayload(), a.device().id());
        List<DtlsLoad.Result> raws = new ArrayList<>();
        List<DtlsLoad.Result> enrolls = new ArrayList<>();
        DtlsLoad.DeviceSource fresh = null;
        // Scandium keeps the connection of every full handshake (up to max-connections, until it is
        // stale), and that heap grows with every slice. Each configuration starts from empty stores,
        // as after a restart, so later configurations do not pay for the garbage of earlier ones.
        doorConnector.clearConnectionState();
        raw.connector().clearConnectionState();
        System.gc();
        long rawServerBefore = raw.handshakes();
        long rawRecordsBefore = raw.records();
        for (int round = 1; round <= options.rounds; round++) {
            DtlsLoad.Result r = DtlsLoad.run("raw " + variant + " N=" + n + " #" + round, rawAddress(), serverLeaf, certs,
                    sample.cycling(), s, clientCoap, cpu, a -> a.response().getPayloadSize() > 0);
            raws.add(r);
            printSlice(r);
            if (fresh == null) {
                // Enough fresh devices for all enroll slices at the raw rate, with room to spare; a pool
                // that runs dry is reported.
                double seconds = options.rounds * (options.warmup + options.measure);
                int size = (int) Math.min(400_000, Math.ceil(r.rate() * seconds * 1.5) + 4L * n + 200);
                long t0 = System.nanoTime();
                fresh = pool(variant, size).once();
                System.out.printf("  made and registered %d %s devices in %.1f s (outside the measurement)%n", size,
                        variant, (System.nanoTime() - t0) / 1e9);
            }
            DtlsLoad.Result e = DtlsLoad.run("enroll " + variant + " N=" + n + " #" + round, doorAddress(), serverLeaf,
                    certs, fresh, s, clientCoap, cpu, issuedToDevice);
            enrolls.add(e);
            printSlice(e);
        }
        DtlsLoad.Result rawResult = DtlsLoad.Result.merge("raw " + variant + " N=" + n, raws);
        DtlsLoad.Result enrollResult = DtlsLoad.Result.merge("enroll " + variant + " N=" + n, enrolls);
        print(rawResult);
        System.out.printf("     raw server side: %d full handshakes completed, %d DTLS records received (all slices, "
                + "warm-ups included)%n", raw.handshakes() - rawServerBefore, raw.records() - rawRecordsBefore);
        print(enrollResult);
        rows.add(new Row(provider, variant, n, enrollResult, rawResult));
    }

    private DtlsLoad.Settings settings(int clients, double warmup, double measure) {
        return new DtlsLoad.Settings(clients, seconds(warmup), seconds(measure), seconds(options.timeout),
                options.clientThreads, seconds(options.progress));
    }

    private InetSocketAddress doorAddress() {
        return new InetSocketAddress("127.0.0.1", server.coapsPort());
    }

    private InetSocketAddress rawAddress() {
        return new InetSocketAddress("127.0.0.1", raw.port());
    }


    // ---- devices ---------------------------------------------------------------------------------

    /** Pre-made devices: registered, CSR made, and for idevid a factory certificate and key. */
    private record Pool(DtlsLoad.Device[] devices) {
        /** Each device once (enrollment: a token is spent, a device enrolls once). */
        DtlsLoad.DeviceSource once() {
            AtomicInteger next = new AtomicInteger();
            return () -> {
                int i = next.getAndIncrement();
                return i < devices.length ? devices[i] : null;
            };
        }

        /** Round and round (the raw server keeps no state). */
        DtlsLoad.DeviceSource cycling() {
            AtomicInteger next = new AtomicInteger();
            return () -> devices[Math.floorMod(next.getAndIncrement(), devices.length)];
        }
    }

    private Pool pool(String variant, int count) {
        return switch (variant) {
            case "token" -> tokenDevices(count);
            case "idevid" -> factoryDevices(count);
            default -> throw new IllegalArgumentException("variant '" + variant + "': use token or idevid");
        };
    }

    /** Registered in bench-token; each CSR carries the device's one-time token as challengePassword. */
    private Pool tokenDevices(int count) {
        String[] ids = newIds("cbt", count);
        String[] tokens = register(ids, "bench-token");
        DtlsLoad.Device[] devices = new DtlsLoad.Device[count];
        IntStream.range(0, count).parallel().forEach(i ->
                devices[i] = new DtlsLoad.Device(ids[i], csr(ids[i], TestPki.p256(), tokens[i]), null, null));
        return new Pool(devices);
    }

    /**
     * Registered in bench-idevid, whose maker CA issued each device a factory certificate (CN = the
     * device id, its own P-256 key); the CSR has a fresh key and no token.
     */
    private Pool factoryDevices(int count) {
        String[] ids = newIds("cbi", count);
        register(ids, "bench-idevid");
        DtlsLoad.Device[] devices = new DtlsLoad.Device[count];
        IntStream.range(0, count).parallel().forEach(i -> {
            KeyPair factoryKeys = TestPki.p256();
            X509Certificate idevid = maker.issue("CN=" + ids[i], factoryKeys, Duration.ofDays(3650));
            devices[i] = new DtlsLoad.Device(ids[i], csr(ids[i], TestPki.p256(), null),
                    asDefaultProviderKey(factoryKeys.getPrivate()), List.of(idevid));
        });
        return new Pool(devices);
    }

    private String[] newIds(String prefix, int count) {
        int from = deviceCounter.getAndAdd(count);
        String[] ids = new String[count];
        for (int i = 0; i < count; i++) {
            ids[i] = String.format("%s-%08d", prefix, from + i);
        }
        return ids;
    }

    /** Bulk registration through the fleet service, as the API's bulk endpoint does; returns the tokens. */
    private String[] register(String[] ids, String group) {
        String[] tokens = new String[ids.length];
        for (int from = 0; from < ids.length; from += FleetService.MAX_BULK) {
            int to = Math.min(ids.length, from + FleetService.MAX_BULK);
            List<FleetService.Registration> done = fleet.register(Arrays.asList(ids).subList(from, to), group, ACTOR);
            for (int i = 0; i < done.size(); i++) {
                tokens[from + i] = done.get(i).enrollmentToken();
            }
        }
        return tokens;
    }

    /** A DER PKCS#10 CSR, CN = the id, SHA256withECDSA; with the token as PKCS#9 challengePassword if given. */
    private static byte[] csr(String id, KeyPair keys, String challengePassword) {
        try {
            JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + id),
                    keys.getPublic());
            if (challengePassword != null) {
                b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_challengePassword, new DERUTF8String(challengePassword));
            }
            return b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(keys.getPrivate()))
                    .getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The client key in the handshake's provider's own type, so signing does not convert it each time. */
    private static PrivateKey asDefaultProviderKey(PrivateKey key) {
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- reporting -------------------------------------------------------------------------------

    private void printSlice(DtlsLoad.Result r) {
        System.out.printf(Locale.ROOT, "  -> %s: %.1f/s, p50 %.1f ms, %d failed, this JVM %.2f cores, other processes %.2f, "
                        + "GC pauses %.1f%%; DTLS connections held: door %d, raw %d; old gen after GC %d MB%s%n",
                r.label(), r.rate(), r.percentile(0.5), r.failed(), r.cpu().processCores(), r.cpu().otherCores(),
                100 * r.cpu().gcPauseShare(), connectionsHeld(doorConnector), connectionsHeld(raw.connector()),
                oldGenAfterGcMb(), r.exhausted() ? " [DEVICE POOL RAN OUT]" : "");
    }

    /** Connections (sessions) a Scandium connector holds; read from its store, for the report only. */
    private int connectionsHeld(DTLSConnector connector) {
        try {
            java.lang.reflect.Field store = DTLSConnector.class.getDeclaredField("connectionStore");
            store.setAccessible(true);
            ResumptionSupportingConnectionStore s = (ResumptionSupportingConnectionStore) store.get(connector);
            return maxConnections - s.remainingCapacity();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    private static long oldGenAfterGcMb() {
        for (java.lang.management.MemoryPoolMXBean pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().contains("Old Gen") && pool.getCollectionUsage() != null) {
                return pool.getCollectionUsage().getUsed() >> 20;
            }
        }
        return -1;
    }

    private static void print(DtlsLoad.Result r) {
        CpuMeter.Usage u = r.cpu();
        System.out.printf(Locale.ROOT, "  => %s: %.1f/s (%d ok in %.1f s), latency ms p50 %.1f p90 %.1f p99 %.1f max %.1f, "
                        + "failed %d %s%s%n", r.label(), r.rate(), r.ok(), r.seconds(), r.percentile(0.5),
                r.percentile(0.9), r.percentile(0.99), r.percentile(1.0), r.failed(),
                r.failures().isEmpty() ? "" : r.failures(), r.exhausted() ? " [DEVICE POOL RAN OUT]" : "");
        System.out.printf(Locale.ROOT, "     CPU per request: server %.2f ms, load generator %.2f ms%n", r.serverCpuMsPerOk(),
                r.clientCpuMsPerOk());
        System.out.printf(Locale.ROOT, "     full handshakes (client side) %d ok / %d failed, server certificate checks %d, "
                        + "distinct DTLS sessions among the ok requests %d of %d%n", r.handshakesOk(), r.handshakesFailed(),
                r.serverChecks(), r.distinctSessions(), r.ok());
        System.out.printf(Locale.ROOT, "     CPU: this JVM %.2f cores (load generator %.2f = %.0f%%; JIT %.2f; GC pauses %.1f%% "
                        + "of the time), other processes %.2f, steal %.2f, pressure avg10 %.1f%%%n", u.processCores(),
                u.clientCores(), 100 * u.clientShare(), u.jitCores(), 100 * u.gcPauseShare(), u.otherCores(),
                u.stealCores(), CpuMeter.cpuPressureAvg10());
        StringBuilder top = new StringBuilder("     by thread: ");
        u.groups().entrySet().stream().limit(9).forEach(e ->
                top.append(String.format(Locale.ROOT, "%s %.2f; ", e.getKey(), e.getValue())));
        System.out.println(top);
    }

    private void report() throws IOException {
        System.out.printf("%n==== %s: EST-coaps enrollments vs raw DTLS handshakes%n", provider);
        System.out.println(Row.HEADER);
        List<String> lines = rows.stream().map(Row::toString).toList();
        lines.forEach(System.out::println);
        if (options.resultFile != null) {
            Files.write(Path.of(options.resultFile), lines, StandardCharsets.UTF_8);
        }
    }

    /** One line of the summary: a variant and client count, enrollments next to raw handshakes. */
    private record Row(String provider, String variant, int clients, DtlsLoad.Result enroll, DtlsLoad.Result raw) {
        static final String HEADER = "| JCE | client auth | N | enrollments/s | raw handshakes/s | ratio "
                + "| enroll p50 / p99 ms | raw p50 / p99 ms | failures (enroll / raw) | server CPU ms per enrollment / handshake "
                + "| load generator CPU | other procs |\n"
                + "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "| %s | %s | %d | %.0f%s | %.0f | %.2f | %.0f / %.0f | %.0f / %.0f | %d / %d "
                            + "| %.2f / %.2f | %.0f%% | %.2f |", provider, variant.equals("token") ? "token in CSR" : "IDevID",
                    clients, enroll.rate(), enroll.exhausted() ? " (pool ran out)" : "", raw.rate(),
                    enroll.rate() / raw.rate(), enroll.percentile(0.5), enroll.percentile(0.99), raw.percentile(0.5),
                    raw.percentile(0.99), enroll.failed(), raw.failed(), enroll.serverCpuMsPerOk(),
                    raw.serverCpuMsPerOk(), 100 * enroll.cpu().clientShare(), enroll.cpu().otherCores());
        }
    }

    private static void configureLogging(Path dataDir) {
        IssuanceBenchmark.coreLogToFile(dataDir);
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger("org.eclipse.californium").setLevel(ch.qos.logback.classic.Level.WARN);
    }



    // ---- options ---------------------------------------------------------------------------------

    private static final class Options {
        List<String> providers = List.of("JDK", "BC");
        List<Integer> clients = List.of(8, 32, 64);
        List<String> variants = List.of("token", "idevid");
        int rounds = 3;
        double warmup = 3;
        double measure = 7;
        double jitWarmup = 60;
        double timeout = 30;
        int clientThreads = 2;
        double progress = 10;
        String jvmArgs = "-Xms1g -Xmx1g";
        boolean noFork;
        String child;
        String resultFile;
        Map<String, Object> serverProperties = Map.of();

        static Options parse(String[] args) {
            Options o = new Options();
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument '" + a + "'");
                }
                String name = a.substring(2);
                if (name.equals("no-fork")) {
                    o.noFork = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                values.put(name, args[++i]);
            }
            values.forEach((name, v) -> {
                switch (name) {
                    case "providers" -> o.providers = List.of(v.toUpperCase(Locale.ROOT).split(","));
                    case "clients" -> o.clients = Stream.of(v.split(",")).map(Integer::parseInt).toList();
                    case "variants" -> o.variants = List.of(v.split(","));
                    case "rounds" -> o.rounds = Integer.parseInt(v);
                    case "warmup" -> o.warmup = Double.parseDouble(v);
                    case "measure" -> o.measure = Double.parseDouble(v);
                    case "jit-warmup" -> o.jitWarmup = Double.parseDouble(v);
                    case "timeout" -> o.timeout = Double.parseDouble(v);
                    case "client-threads" -> o.clientThreads = Integer.parseInt(v);
                    case "progress" -> o.progress = Double.parseDouble(v);
                    case "jvm-args" -> o.jvmArgs = v;
                    case "server-properties" -> o.serverProperties = BenchSupport.serverProperties(v);
                    case "child" -> o.child = v;
                    case "result-file" -> o.resultFile = v;
                    default -> throw new IllegalArgumentException("unknown option --" + name);
                }
            });
            for (String p : o.providers) {
                if (!p.equals("JDK") && !p.equals("BC") && !p.equals("BC_NON_BLOCKING_RANDOM")) {
                    throw new IllegalArgumentException("provider '" + p + "': use JDK, BC or BC_NON_BLOCKING_RANDOM");
                }
            }
            return o;
        }
    }
}
