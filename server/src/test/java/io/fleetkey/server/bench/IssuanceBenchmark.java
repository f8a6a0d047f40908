package io.fleetkey.server.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
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
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
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
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
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
import org.slf4j.LoggerFactory;

/**
 * Throughput of the issuance core as the doors call it: one first enrollment with a one-time
 * token per operation (CSR parse and proof-of-possession check, token check, policy, CA
 * signature, and the certificate, token and audit rows committed to an H2 file database).
 *
 * <p>The core is wired by hand exactly as {@code CoreFactory} wires it, without a Micronaut
 * context: Hikari pool, Flyway migrations, the real CA keystore and the Jdbc repositories.
 * Every operation enrolls a device that has not enrolled before, so the pool of registered
 * devices and their CSRs (made in set-up, outside the measurement) must outlast the run;
 * {@code poolSize} sets it and the benchmark fails with a clear message when it runs out.
 *
 * <p>The core logs one INFO line per certificate, as in production; the line goes to a file in
 * the trial's data folder so the benchmark output stays readable ({@code coreLog=off} drops it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class IssuanceBenchmark {
    private static final String GROUP = "bench";
    private static final String ACTOR = "benchmark";

    /** JCA provider of the CA signer and the CSR checks, as {@code fleetkey.crypto-provider}. */
    @Param({"BC", "JDK"})
    public String cryptoProvider;

    /** Devices registered and CSRs made in set-up: one per operation, across warm-up and measurement. */
    @Param("60000")
    public int poolSize;

    /** {@code file}: the core's INFO lines go to a log file as a server's would; {@code off}: dropped. */
    @Param("file")
    public String coreLog;

    private Path dataDir;
    private HikariDataSource dataSource;
    private EnrollmentService enrollment;
    private String[] deviceIds;
    private String[] tokens;
    private byte[][] csrs;
    private final AtomicInteger next = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dataDir = Files.createTempDirectory("fleetkey-bench-");
        configureLogging();
        CryptoProvider provider = CryptoProvider.named(cryptoProvider);
        Clock clock = Clock.systemUTC();

        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl("jdbc:h2:file:" + dataDir.resolve("db").resolve("fleetkey").toAbsolutePath()
                + ";DB_CLOSE_ON_EXIT=FALSE");
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
                Set.of(CertificateProfile.CLIENT_AUTH), false, EnumSet.allOf(AllowedKey.class))));

        JdbcTransactions transactions = new JdbcTransactions(dataSource);
        JdbcDeviceRepository devices = new JdbcDeviceRepository(transactions, clock);
        JdbcGroupRepository groups = new JdbcGroupRepository(transactions);
        JdbcCertificateRepository certificates = new JdbcCertificateRepository(transactions);
        JdbcTokenRepository tokenRepository = new JdbcTokenRepository(transactions);
        JdbcAuditLog audit = new JdbcAuditLog(transactions);
        enrollment = new EnrollmentService(authority, profiles, new KeyPolicy(KeyPolicy.RSA_FLOOR_BITS), provider,
                devices, groups, certificates, tokenRepository, audit, transactions, clock,
                new EnrollmentService.Settings(Duration.ZERO, Duration.ofSeconds(60)));
        FleetService fleet = new FleetService(groups, devices, tokenRepository, certificates, audit, transactions,
                profiles, clock, Duration.ofDays(7));

        long started = System.nanoTime();
        fleet.createGroup(GROUP, new FleetService.GroupChange("device", null, false, null), ACTOR);
        deviceIds = new String[poolSize];
        tokens = new String[poolSize];
        for (int i = 0; i < poolSize; i++) {
            deviceIds[i] = String.format("bench-%07d", i);
        }
        for (int from = 0; from < poolSize; from += FleetService.MAX_BULK) {
            int to = Math.min(poolSize, from + FleetService.MAX_BULK);
            List<FleetService.Registration> batch = fleet.register(
                    List.of(deviceIds).subList(from, to), GROUP, ACTOR);
            for (int i = 0; i < batch.size(); i++) {
                tokens[from + i] = batch.get(i).enrollmentToken();
            }
        }
        long registered = System.nanoTime();
        csrs = ecP256Csrs(deviceIds);
        long generated = System.nanoTime();
        System.out.printf("%nset-up: registered %d devices in %.1f s, made %d EC P-256 CSRs in %.1f s (%s)%n",
                poolSize, (registered - started) / 1e9, poolSize, (generated - registered) / 1e9, dataDir);
    }

    @Benchmark
    public EnrollmentResult enrollWithToken() {
        int i = next.getAndIncrement();
        if (i >= poolSize) {
            throw new IllegalStateException("all " + poolSize + " pre-registered devices have enrolled; "
                    + "raise the pool (-p poolSize=...) or shorten the run (-wi/-w/-i/-r)");
        }
        EnrollmentResult result = enrollment.enroll(csrs[i], new ChannelProof.Token(deviceIds[i], tokens[i]));
        if (!(result instanceof EnrollmentResult.Issued issued) || issued.repeated()) {
            throw new IllegalStateException("device " + deviceIds[i] + " was not issued a new certificate: " + result);
        }
        return result;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        System.out.printf("%nenrolled %d of %d pre-registered devices%n", Math.min(next.get(), poolSize), poolSize);
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
     * One DER PKCS#10 CSR per id, each with a fresh EC P-256 key, CN = the id, signed with
     * SHA256withECDSA by Bouncy Castle — what the agent sends. Made on all cores.
     */
    static byte[][] ecP256Csrs(String[] ids) {
        ThreadLocal<KeyPairGenerator> generators = ThreadLocal.withInitial(() -> {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC", CryptoProvider.bouncyCastle());
                g.initialize(new ECGenParameterSpec("secp256r1"));
                return g;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("no EC P-256 key generator", e);
            }
        });
        byte[][] out = new byte[ids.length][];
        IntStream.range(0, ids.length).parallel().forEach(i -> {
            KeyPair keys = generators.get().generateKeyPair();
            try {
                out[i] = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + ids[i]), keys.getPublic())
                        .build(new JcaContentSignerBuilder("SHA256withECDSA")
                                .setProvider(CryptoProvider.bouncyCastle()).build(keys.getPrivate()))
                        .getEncoded();
            } catch (IOException | OperatorCreationException e) {
                throw new IllegalStateException("cannot make a CSR for " + ids[i], e);
            }
        });
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
        fleetkey.setLevel(ch.qos.logback.classic.Level.INFO);
        fleetkey.setAdditive(false);
        fleetkey.addAppender(file);
    }
}
