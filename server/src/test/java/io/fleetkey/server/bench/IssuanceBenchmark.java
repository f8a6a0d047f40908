package io.fleetkey.server.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.fleetkey.server.authority.CaKeystore;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.authority.SoftwareCaSigner;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.metrics.FleetMetrics;
import io.fleetkey.server.persistence.JdbcAuditLog;
import io.fleetkey.server.persistence.JdbcCertificateRepository;
import io.fleetkey.server.persistence.JdbcDeviceRepository;
import io.fleetkey.server.persistence.JdbcGroupRepository;
import io.fleetkey.server.persistence.JdbcTokenRepository;
import io.fleetkey.server.persistence.JdbcTransactions;
import io.fleetkey.server.policy.AllowedKey;
import io.fleetkey.server.policy.CertificateProfile;
import io.fleetkey.server.policy.KeyPolicy;
import io.fleetkey.server.policy.ProfileCatalog;
import io.fleetkey.server.registry.FleetService;
import io.fleetkey.server.testing.TestPki;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.flywaydb.core.Flyway;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.slf4j.LoggerFactory;

/**
 * Throughput of the issuance core as the doors call it: one first enrollment with a one-time
 * token per operation (CSR parse and proof-of-possession check, token check, policy, CA
 * signature, and the certificate, token and audit rows committed to an H2 file database).
 *
 * <p>The core is wired by hand exactly as {@code CoreFactory} wires it, without a Micronaut
 * context: Hikari pool, Flyway migrations, the real CA keystore and the Jdbc repositories.
 * Every operation enrolls a device that has not enrolled before. Before each iteration, outside
 * the measurement, the pool of registered devices (bulk registration, one-time tokens) and their
 * CSRs is topped up to twice what the best earlier iteration would use; if an iteration still
 * runs out, the benchmark fails with a message saying so.
 *
 * <p>The warm-up is long because the path is long: Bouncy Castle's EC and ASN.1 code, H2 and
 * Hikari need about 20 s of enrollments before the JIT has compiled them and the rate levels off.
 *
 * <p>{@code attestation=on} measures the same enrollment with evidence: the group requires
 * attestation with a nonce and has reference values (model, minimum version, firmware digest),
 * and each CSR carries a device statement signed by the device's factory identity (IDevID,
 * EC P-256) with a nonce issued before the iteration. On top of the token path, the core then
 * verifies the statement's signature, the IDevID chain, spends the nonce (one UPDATE),
 * appraises the claims and records the appraisal with the certificate. The nonce request
 * itself is a separate operation, measured by {@code issueNonce}.
 *
 * <p>The core logs one INFO line per certificate, as in production; the line goes to a file in
 * the trial's data folder so the benchmark output stays readable ({@code coreLog=off} drops it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 5)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class IssuanceBenchmark {
    private static final String GROUP = "bench";
    private static final String ACTOR = "benchmark";
    /** Enrollments per second and thread assumed before the first iteration has been measured. */
    private static final int FIRST_GUESS = 2000;
    /** The pool holds this many times what the best iteration so far would need. */
    private static final int HEADROOM = 2;
    private static final int MIN_SPARE = 1000;

    /** JCA provider of the CA signer and the CSR checks, as {@code fleetkey.crypto-provider}. */
    @Param({"BC", "JDK"})
    public String cryptoProvider;

    /** {@code on}: every enrollment carries evidence the core verifies and appraises (see above). */
    @Param({"off", "on"})
    public String attestation;

    /** {@code file}: the core's INFO lines go to a log file as a server's would; {@code off}: dropped. */
    @Param("file")
    public String coreLog;

    private Path dataDir;
    private HikariDataSource dataSource;
    private EnrollmentService enrollment;
    private FleetService fleet;
    private io.fleetkey.server.enrollment.FreshnessNonces nonces;
    private TestPki.Ca maker;

    // The pool: devices [0, pooled) are registered and have a CSR; next is the first one not yet enrolled.
    private String[] deviceIds = new String[0];
    private String[] tokens = new String[0];
    private byte[][] csrs = new byte[0][];
    private int pooled;
    private final AtomicInteger next = new AtomicInteger();

    // What earlier iterations achieved, to size the pool for the next one.
    private double bestRate;
    private int iterationStartIndex;
    private long iterationStartNanos;
    private long topUpNanos;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dataDir = Files.createTempDirectory("fleetkey-bench-");
        configureLogging();
        CryptoProvider provider = CryptoProvider.named(cryptoProvider);
        Clock clock = Clock.systemUTC();

        // The default datasource of application.yml, pointed at this trial's data folder.
        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl("jdbc:h2:file:" + dataDir.resolve("db").resolve("fleetkey").toAbsolutePath()
                + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;QUERY_CACHE_SIZE=256");
        pool.setUsername("sa");
        pool.setPassword("");
        pool.setMaximumPoolSize(8);
        dataSource = new HikariDataSource(pool);
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();

        CaKeystore.IssuingCa ca = CaKeystore.loadOrCreate(new CaKeystore.Settings(dataDir, "bench-ca-passphrase",
                "P-256", null, null, null, null, null), provider, clock.instant());
        CertificateAuthority authority = new CertificateAuthority(
                new SoftwareCaSigner(ca.key(), ca.chain(), provider), "https://localhost:8443");
        ProfileCatalog profiles = new ProfileCatalog(List.of(new CertificateProfile("device", Duration.ofDays(90),
                Set.of(CertificateProfile.CLIENT_AUTH), false, EnumSet.allOf(AllowedKey.class)),
                new CertificateProfile("restricted", Duration.ofDays(1), Set.of(CertificateProfile.CLIENT_AUTH), false,
                        EnumSet.allOf(AllowedKey.class))));

        JdbcTransactions transactions = new JdbcTransactions(dataSource);
        JdbcDeviceRepository devices = new JdbcDeviceRepository(transactions, clock);
        JdbcGroupRepository groups = new JdbcGroupRepository(transactions);
        JdbcCertificateRepository certificates = new JdbcCertificateRepository(transactions);
        JdbcTokenRepository tokenRepository = new JdbcTokenRepository(transactions);
        JdbcAuditLog audit = new JdbcAuditLog(transactions);
        io.fleetkey.server.persistence.JdbcAttestationHistory history =
                new io.fleetkey.server.persistence.JdbcAttestationHistory(transactions);
        // The server's meters, in a Prometheus registry behind a composite as Micronaut sets it up.
        CompositeMeterRegistry meters = new CompositeMeterRegistry();
        meters.add(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        FleetMetrics metrics = new FleetMetrics(meters);
        enrollment = new EnrollmentService(authority, profiles, new KeyPolicy(KeyPolicy.RSA_FLOOR_BITS), provider,
                devices, groups, certificates, tokenRepository, audit, transactions, clock,
                new EnrollmentService.Settings(Duration.ZERO, Duration.ofSeconds(60)),
                nonces = new io.fleetkey.server.enrollment.FreshnessNonces(
                        new io.fleetkey.server.persistence.JdbcNonceRepository(transactions), clock, Duration.ofMinutes(10),
                        Integer.MAX_VALUE, metrics),
                history, metrics);
        fleet = new FleetService(groups, devices, tokenRepository, certificates, audit, transactions,
                profiles, clock, Duration.ofDays(7), revoked -> { }, notice -> { }, history);
        maker = TestPki.ca("Bench Maker CA");
        fleet.createGroup(GROUP, new FleetService.GroupChange("device", List.of(maker.certificate()), false, null), ACTOR);
        if ("on".equals(attestation)) {
            fleet.updateAttestation(GROUP, new FleetService.AttestationChange(
                    io.fleetkey.server.registry.AttestationPolicy.Mode.REQUIRED, null, true, null,
                    List.of(MODEL), "2.0.0", false), ACTOR);
            fleet.addDigest(GROUP, "firmware", FIRMWARE, "bench image", ACTOR);
        } else if (!"off".equals(attestation)) {
            throw new IllegalArgumentException("attestation is '" + attestation + "'; use on or off");
        }
    }

    private static final String MODEL = "bench-gw";
    private static final String FIRMWARE = "9f".repeat(32);

    /** A freshness nonce, as the nonce operation of any door issues it (one INSERT). */
    @Benchmark
    public String issueNonce() {
        return nonces.issue(null).nonce();
    }

    /**
     * Before each iteration, outside the measurement: make sure enough unused devices wait for
     * it — HEADROOM times what the best iteration so far would enroll in this iteration's time
     * (FIRST_GUESS ops/s per thread before any iteration has run).
     */
    @Setup(Level.Iteration)
    public void topUpPool(BenchmarkParams benchmark, IterationParams iteration) {
        double seconds = iteration.getTime().convertTo(TimeUnit.MILLISECONDS) / 1000.0;
        double rate = bestRate > 0 ? bestRate : FIRST_GUESS * benchmark.getThreads();
        int wanted = (int) Math.min(Integer.MAX_VALUE - pooled, Math.ceil(rate * seconds * HEADROOM) + MIN_SPARE);
        int unused = pooled - next.get();
        if (unused < wanted) {
            long started = System.nanoTime();
            addDevices(wanted - unused);
            topUpNanos += System.nanoTime() - started;
        }
        iterationStartIndex = next.get();
        iterationStartNanos = System.nanoTime();
    }

    @TearDown(Level.Iteration)
    public void recordRate() {
        double seconds = (System.nanoTime() - iterationStartNanos) / 1e9;
        int enrolled = Math.min(next.get(), pooled) - iterationStartIndex;
        bestRate = Math.max(bestRate, enrolled / seconds);
    }

    @Benchmark
    public EnrollmentResult enrollWithToken() {
        int i = next.getAndIncrement();
        if (i >= pooled) {
            throw new IllegalStateException("all " + pooled + " pre-registered devices have enrolled: this iteration "
                    + "ran more than " + HEADROOM + " times faster than the best one before it; run a longer warm-up "
                    + "(-wi/-w) so the pool is sized from a warm rate");
        }
        EnrollmentResult result = enrollment.enroll(Door.HTTPS, csrs[i], new ChannelProof.Token(deviceIds[i], tokens[i]));
        if (!(result instanceof EnrollmentResult.Issued issued) || issued.repeated()) {
            throw new IllegalStateException("device " + deviceIds[i] + " was not issued a new certificate: " + result);
        }
        return result;
    }

    /** Registers {@code count} more devices in bulk (their one-time tokens kept) and makes a CSR for each. */
    private void addDevices(int count) {
        int from = pooled;
        int to = from + count;
        deviceIds = Arrays.copyOf(deviceIds, to);
        tokens = Arrays.copyOf(tokens, to);
        for (int i = from; i < to; i++) {
            deviceIds[i] = String.format("bench-%08d", i);
        }
        for (int chunk = from; chunk < to; chunk += FleetService.MAX_BULK) {
            int end = Math.min(to, chunk + FleetService.MAX_BULK);
            List<FleetService.Registration> batch = fleet.register(
                    Arrays.asList(deviceIds).subList(chunk, end), GROUP, ACTOR);
            for (int i = 0; i < batch.size(); i++) {
                tokens[chunk + i] = batch.get(i).enrollmentToken();
            }
        }
        byte[][] made = "on".equals(attestation) ? attestedCsrs(Arrays.copyOfRange(deviceIds, from, to))
                : ecP256Csrs(Arrays.copyOfRange(deviceIds, from, to));
        csrs = Arrays.copyOf(csrs, to);
        System.arraycopy(made, 0, csrs, from, count);
        pooled = to;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        System.out.printf("%nenrolled %d of %d registered devices; registering them and making their CSRs took %.1f s "
                + "outside the measurement%n", Math.min(next.get(), pooled), pooled, topUpNanos / 1e9);
        if (dataSource != null) {
            dataSource.close();
        }
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * As {@link #ecP256Csrs}, each CSR carrying a device statement with evidence that matches the
     * group's reference values, a fresh nonce, and signed by a new IDevID of the maker.
     */
    private byte[][] attestedCsrs(String[] ids) {
        byte[][] out = new byte[ids.length][];
        String[] fresh = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            fresh[i] = nonces.issue(null).nonce();
        }
        io.fleetkey.protocol.Evidence evidence = new io.fleetkey.protocol.Evidence(MODEL, "bench-firmware", "2.4.1",
                io.fleetkey.protocol.Evidence.DebugStatus.DISABLED, List.of(
                new io.fleetkey.protocol.Evidence.Measurement("firmware", FIRMWARE)));
        IntStream.range(0, ids.length).parallel().forEach(i -> {
            java.security.KeyPair idevidKeys = TestPki.p256();
            java.security.cert.X509Certificate idevid = maker.issue("CN=" + ids[i], idevidKeys, Duration.ofDays(365));
            out[i] = TestPki.csrWithEvidence(ids[i], TestPki.p256(), idevidKeys, List.of(idevid), fresh[i], evidence);
        });
        return out;
    }

    /**
     * One DER PKCS#10 CSR per id, each with a fresh EC P-256 key, CN = the id, signed with
     * SHA256withECDSA by Bouncy Castle — what the agent sends. Made on all cores.
     */
    static byte[][] ecP256Csrs(String[] ids) {
        byte[][] out = new byte[ids.length][];
        IntStream.range(0, ids.length).parallel().forEach(i -> out[i] = TestPki.csr(ids[i], TestPki.p256()));
        return out;
    }

    private void configureLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger fleetkey = context.getLogger("io.fleetkey");
        if ("off".equals(coreLog)) {
            fleetkey.setLevel(ch.qos.logback.classic.Level.WARN);
            return;
        }
        if (!"file".equals(coreLog)) {
            throw new IllegalArgumentException("coreLog is '" + coreLog + "'; use file or off");
        }
        coreLogToFile(dataDir);
    }

    /**
     * The core's INFO line per certificate goes to {@code fleetkey.log} in the data folder, as a
     * server's would, so the benchmark's console stays readable. Shared by the benchmarks here.
     */
    static void coreLogToFile(Path dataDir) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> file = new FileAppender<>();
        file.setContext(context);
        file.setName("bench-file");
        file.setFile(dataDir.resolve("fleetkey.log").toString());
        file.setEncoder(encoder);
        file.start();
        ch.qos.logback.classic.Logger fleetkey = context.getLogger("io.fleetkey");
        fleetkey.setLevel(ch.qos.logback.classic.Level.INFO);
        fleetkey.setAdditive(false);
        fleetkey.addAppender(file);
    }
}
