package io.fleetkey.simulator.factory;

import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.SSLException;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.Arguments;
import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.simulator.FleetApiClient.FleetApiException;
import io.fleetkey.simulator.factory.FactoryDirectory.IssuedEntry;
import io.fleetkey.simulator.factory.FactoryDirectory.WrongPasswordException;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.openssl.PEMParser;

/**
 * {@code fleetkey-simulator factory}: a maker CA and factory identities (IEEE 802.1AR
 * IDevIDs) for a batch of devices, their revocation, and their registration with a Fleetkey
 * server. Expected failures end with one message that says what to do; private keys and
 * passwords are never printed.
 */
public final class FactoryCommand {
    /** Exit statuses, documented in {@link #USAGE_TEXT}; the same numbers as the simulator's scenarios. */
    static final int OK = 0;
    static final int PARTLY_DONE = 1;
    static final int USAGE = 2;
    static final int SETUP_FAILED = 4;

    static final String PASSWORD_ENV = "FLEETKEY_FACTORY_PASSWORD";
    static final String ADMIN_TOKEN_ENV = "FLEETKEY_ADMIN_TOKEN";
    static final int MIN_PASSWORD_LENGTH = 12;
    static final int MAX_BATCH = 1_000_000;
    static final int PROGRESS_EVERY = 1000;
    /** Skipped devices named one by one before the summary takes over. */
    static final int SKIPS_NAMED = 10;

    private static final String DIR = "--dir";
    private static final String MAKER = "--maker";
    private static final String KEY = "--key";
    private static final String VALIDITY = "--validity";
    private static final String DEVICES = "--devices";
    private static final String PREFIX = "--prefix";
    private static final String COUNT = "--count";
    private static final String START = "--start";
    private static final String DIGITS = "--digits";
    private static final String MODEL = "--model";
    private static final String SERIAL = "--serial";
    private static final String REASON = "--reason";
    private static final String NEXT_UPDATE = "--next-update";
    private static final String SERVER = "--server";
    private static final String CA_CERT = "--ca-cert";
    private static final String ADMIN_TOKEN = "--admin-token";
    private static final String GROUP = "--group";
    private static final String PROFILE = "--profile";
    private static final String NO_DEVICES = "--no-devices";
    private static final String KEEP_MAKER_CAS = "--keep-maker-cas";
    private static final String KEEP_MAKER_CRLS = "--keep-maker-crls";

    static final String USAGE_TEXT = """
            Usage: fleetkey-simulator factory <command> --dir DIR [options]

            A maker CA and factory identities (IEEE 802.1AR IDevIDs) for a batch of devices,
            for tests, demos and small device makers. Every command works in one directory.

            Commands:
              init       make the maker CA: DIR/maker-ca.pem, DIR/maker-ca.p12
              issue      make one IDevID per device: DIR/devices/ID.p12 (existing ones are kept)
              revoke     revoke IDevIDs and write the maker CRL: DIR/maker-ca.crl.pem
              crl        write the maker CRL again, with a fresh thisUpdate and nextUpdate
              register   make a Fleetkey group trust the maker CA and CRL; register the devices

            init options:
              --dir DIR            the factory directory, created (owner-only) if missing
              --maker NAME         the maker's name, the O of every certificate (1 to %d characters)
              --key TYPE           the CA key: p384 (default), p256 or rsa2048
              --validity V         20y (default), whole years Ny, days Nd, or forever

            issue options:
              --devices ID,ID,...  the device ids: 1 to 64 characters from A-Z a-z 0-9 . _ -
              --prefix P --count N or N ids: P followed by a number, e.g. dev-000001
              --start S            the first number (default 1)
              --digits D           numbers zero-padded to D digits (default 6; 0 for none)
              --key TYPE           the device keys: p256 (default), p384, ed25519 or rsa2048
              --validity V         15y (default), Ny, Nd, or forever (99991231235959Z); never
                                   beyond the maker CA's own notAfter
              --model M            the device model, written as the subject's OU

            revoke options:
              --devices ID,...     revoke every IDevID issued to these devices
              --serial HEX,...     revoke these certificates by serial (hex, as in issued.csv)
              --reason R           keyCompromise (default), unspecified, affiliationChanged,
                                   superseded, cessationOfOperation or privilegeWithdrawn
              --next-update D      how long the CRL is valid: 30d (default), Nd or Ny

            crl options:
              --next-update D      as for revoke

            register options:
              --server URL         the Fleetkey server, https only, e.g. https://fleetkey.example.com:8443
              --ca-cert FILE       the server's CA chain (PEM), its data/ca/chain.pem
              --admin-token T      a fleet API token; or set %s
              --group G            the enrollment group; created with the maker CA if missing
              --profile P          the certificate profile of a new group (default: device)
              --devices ID,...     the devices to register (default: every device of issued.csv
                                   and DIR/devices)
              --no-devices         register no devices, only the maker CA and the CRL
              --keep-maker-cas F   the certificates (PEM) of other makers the group trusts: a
                                   PATCH replaces the list, and the API does not return them
              --keep-maker-crls F  those makers' CRLs (PEM), kept when the maker CRL is uploaded

            Password: maker-ca.p12 and every devices/ID.p12 are protected by %s.
            When it is not set at init, a password is generated into DIR/factory-password (mode
            0600) and read from there. Key stores are PKCS#12 with AES-256 and PBKDF2.

            Exit status: 0 done; 1 done in part (some devices failed, or are registered in another
            group); 2 usage error, no maker CA, or a wrong password; 4 set-up failed (files, server).
            """.formatted(MakerCa.MAX_MAKER_LENGTH, ADMIN_TOKEN_ENV, PASSWORD_ENV);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;
    private final Clock clock;

    public FactoryCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        this(out, err, env, Clock.systemUTC());
    }

    FactoryCommand(PrintStream out, PrintStream err, Map<String, String> env, Clock clock) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.clock = clock;
    }

    /**
     * Runs one factory command.
     *
     * @param args the arguments after {@code factory}
     * @return the exit status
     */
    public int run(List<String> args) {
        if (args.isEmpty()) {
            err.print(USAGE_TEXT);
            return USAGE;
        }
        if (Set.of("help", "--help", "-h").contains(args.get(0)) || args.contains("--help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        List<String> options = args.subList(1, args.size());
        try {
            return switch (args.get(0)) {
                case "init" -> init(Arguments.parse(options, Set.of(DIR, MAKER, KEY, VALIDITY), Set.of()));
                case "issue" -> issue(Arguments.parse(options, Set.of(DIR, DEVICES, PREFIX, COUNT, START, DIGITS, KEY,
                        VALIDITY, MODEL), Set.of()));
                case "revoke" -> revoke(Arguments.parse(options, Set.of(DIR, DEVICES, SERIAL, REASON, NEXT_UPDATE),
                        Set.of()));
                case "crl" -> crl(Arguments.parse(options, Set.of(DIR, NEXT_UPDATE), Set.of()));
                case "register" -> register(Arguments.parse(options, Set.of(DIR, SERVER, CA_CERT, ADMIN_TOKEN, GROUP,
                        PROFILE, DEVICES, KEEP_MAKER_CAS, KEEP_MAKER_CRLS), Set.of(NO_DEVICES)));
                default -> throw new UsageException("unknown factory command '" + args.get(0)
                        + "'; use init, issue, revoke, crl or register");
            };
        } catch (UsageException e) {
            err.println("fleetkey-simulator factory: " + e.getMessage());
            err.println("Run 'fleetkey-simulator factory --help' for the options.");
            return USAGE;
        } catch (FactoryException | FleetApiException e) {
            err.println("fleetkey-simulator factory: " + e.getMessage());
            return SETUP_FAILED;
        } catch (IOException e) {
            err.println("fleetkey-simulator factory: " + describe(e));
            return SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("fleetkey-simulator factory: interrupted");
            return PARTLY_DONE;
        }
    }

    // ---- init ----

    private int init(Arguments arguments) throws UsageException, IOException {
        FactoryDirectory dir = new FactoryDirectory(Path.of(arguments.required(DIR)));
        String maker = maker(arguments.required(MAKER));
        KeyType keyType = keyType(arguments, KeyType.P384, Set.of(KeyType.P256, KeyType.P384, KeyType.RSA2048));
        Validity validity = Validity.parse(VALIDITY, arguments.value(VALIDITY).orElse("20y"), true);
        if (dir.hasMakerCa()) {
            throw new UsageException(dir.dir() + " holds a maker CA already (" + FactoryDirectory.CA_STORE + "); it is "
                    + "never overwritten: use another --dir, or move the old files away first");
        }
        String fromEnv = env.get(PASSWORD_ENV);
        if (fromEnv != null && fromEnv.length() < MIN_PASSWORD_LENGTH) {
            throw new UsageException(PASSWORD_ENV + " is shorter than " + MIN_PASSWORD_LENGTH + " characters; choose a "
                    + "longer one, or unset it to have one generated");
        }
        dir.create();
        char[] password;
        boolean generated = false;
        if (fromEnv != null) {
            password = fromEnv.toCharArray();
        } else if (Files.exists(dir.passwordFile())) {
            password = readPasswordFile(dir);
        } else {
            byte[] random = new byte[32];
            RANDOM.nextBytes(random);
            String text = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            FactoryDirectory.writeSecret(dir.passwordFile(), (text + "\n").getBytes(StandardCharsets.US_ASCII));
            password = text.toCharArray();
            generated = true;
        }
        try (AutoCloseable lock = dir.lock()) {
            MakerCa ca = MakerCa.create(maker, keyType, validity, clock.instant());
            FactoryDirectory.writeSecret(dir.caStoreFile(), FactoryDirectory.pkcs12(FactoryDirectory.CA_ALIAS,
                    ca.privateKey(), List.of(ca.certificate()), password));
            FactoryDirectory.writePublic(dir.caCertificateFile(),
                    Certificates.toPem(List.of(ca.certificate())).getBytes(StandardCharsets.US_ASCII));
            X509Certificate c = ca.certificate();
            out.printf(Locale.ROOT, "Created maker CA '%s' (%s, serial %s, valid until %s)%n",
                    c.getSubjectX500Principal().getName(), keyType.optionName(), c.getSerialNumber().toString(16),
                    c.getNotAfter().toInstant());
            out.println("  " + dir.caCertificateFile() + "  the certificate a Fleetkey group trusts ('factory register')");
            out.println("  " + dir.caStoreFile() + "  its private key (mode 0600)");
            out.println("  SHA-256 " + MakerRegistration.sha256(c));
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(describe(e), e);
        } finally {
            Arrays.fill(password, '\0');
        }
        if (generated) {
            err.println("fleetkey-simulator factory: WARNING: " + PASSWORD_ENV + " is not set, so a password was "
                    + "generated into " + dir.passwordFile() + " (mode 0600). It opens the maker CA key and every "
                    + "IDevID key: keep it apart from the devices, or set " + PASSWORD_ENV + " and delete the file.");
        }
        return OK;
    }

    // ---- issue ----

    private int issue(Arguments arguments) throws UsageException, IOException, InterruptedException {
        FactoryDirectory dir = existingDirectory(arguments);
        List<String> ids = deviceIdsToIssue(arguments);
        KeyType keyType = keyType(arguments, KeyType.P256, Set.of(KeyType.values()));
        Validity validity = Validity.parse(VALIDITY, arguments.value(VALIDITY).orElse("15y"), true);
        String model = arguments.value(MODEL).map(String::trim).orElse(null);
        if (model != null && (model.isEmpty() || model.length() > MakerCa.MAX_MODEL_LENGTH
                || model.chars().anyMatch(Character::isISOControl))) {
            throw new UsageException(MODEL + " must be 1 to " + MakerCa.MAX_MODEL_LENGTH
                    + " characters without control characters");
        }
        MakerCa ca = openMakerCa(dir);
        char[] password = password(dir);
        try (AutoCloseable lock = dir.lock()) {
            dir.create();
            return issue(dir, ca, ids, keyType, validity, model, password);
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(describe(e), e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private int issue(FactoryDirectory dir, MakerCa ca, List<String> ids, KeyType keyType, Validity validity,
                      String model, char[] password) throws InterruptedException {
        long start = System.nanoTime();
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        List<String> todo = new ArrayList<>(ids.size());
        List<String> skipped = new ArrayList<>();
        for (String id : ids) {
            (Files.exists(dir.deviceFile(id)) ? skipped : todo).add(id);
        }
        for (String id : skipped.subList(0, Math.min(skipped.size(), SKIPS_NAMED))) {
            out.println("Skipped " + id + ": " + dir.deviceFile(id) + " exists and is kept as it is");
        }
        Instant notAfter = ca.notAfter(validity, now);
        if (notAfter.isBefore(validity.notAfter(now)) && !todo.isEmpty()) {
            out.println("Note: the IDevIDs end with the maker CA at " + notAfter + " rather than after " + validity
                    + "; a certificate cannot outlive its CA");
        }
        List<X509Certificate> caChain = List.of(ca.certificate());
        AtomicInteger issued = new AtomicInteger();
        AtomicInteger raced = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Exception> failure = new AtomicReference<>();
        int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), todo.size()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "factory-issue");
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (String id : todo) {
                pool.execute(() -> {
                    if (stop.get()) {
                        return;
                    }
                    try {
                        KeyPair keys = keyType.generate();
                        X509Certificate certificate = ca.issue(id, keys.getPublic(), validity, model, now);
                        List<X509Certificate> chain = new ArrayList<>(2);
                        chain.add(certificate);
                        chain.addAll(caChain);
                        byte[] store = FactoryDirectory.pkcs12(FactoryDirectory.DEVICE_ALIAS, keys.getPrivate(), chain,
                                password);
                        // The ledger first: a serial without a file can still be revoked, a file without a serial not by id.
                        dir.appendIssued(List.of(new IssuedEntry(certificate.getSerialNumber(), id,
                                certificate.getNotAfter().toInstant(), keyType.optionName())));
                        FactoryDirectory.writeSecret(dir.deviceFile(id), store);
                        int done = issued.incrementAndGet();
                        if (done % PROGRESS_EVERY == 0) {
                            out.printf(Locale.ROOT, "Issued %d/%d%n", done, todo.size());
                        }
                    } catch (FileAlreadyExistsException e) {
                        raced.incrementAndGet();
                    } catch (Exception e) {
                        failure.compareAndSet(null, new IOException("device '" + id + "': " + describe(e), e));
                        stop.set(true);
                    }
                });
            }
        } finally {
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                out.printf(Locale.ROOT, "Issued %d/%d%n", issued.get(), todo.size());
            }
        }
        int kept = skipped.size() + raced.get();
        out.printf(Locale.ROOT, "Issued %d IDevIDs (%s, until %s) into %s; %d existing kept; %.1f s%n", issued.get(),
                keyType.optionName(), notAfter, dir.devicesDir(), kept, (System.nanoTime() - start) / 1e9);
        if (failure.get() != null) {
            err.println("fleetkey-simulator factory: " + (todo.size() - issued.get() - raced.get()) + " of " + todo.size()
                    + " IDevIDs were not issued: " + failure.get().getMessage()
                    + "; fix that and run the same command again: issued devices are kept");
            return PARTLY_DONE;
        }
        return OK;
    }

    private List<String> deviceIdsToIssue(Arguments arguments) throws UsageException {
        boolean byList = arguments.value(DEVICES).isPresent();
        boolean byPrefix = arguments.value(PREFIX).isPresent() || arguments.value(COUNT).isPresent()
                || arguments.value(START).isPresent() || arguments.value(DIGITS).isPresent();
        if (byList == byPrefix) {
            throw new UsageException("give the devices either as " + DEVICES + " ID,ID,... or as " + PREFIX + " P "
                    + COUNT + " N");
        }
        if (byList) {
            return deviceIdList(arguments.required(DEVICES));
        }
        String prefix = arguments.required(PREFIX);
        int count = arguments.intValue(COUNT, -1, 1, MAX_BATCH);
        if (count < 0) {
            throw new UsageException("option " + COUNT + " is required with " + PREFIX);
        }
        int first = arguments.intValue(START, 1, 0, Integer.MAX_VALUE - MAX_BATCH);
        int digits = arguments.intValue(DIGITS, 6, 0, 18);
        String format = digits == 0 ? "%s%d" : "%s%0" + digits + "d";
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(String.format(Locale.ROOT, format, prefix, (long) first + i));
        }
        String last = ids.get(ids.size() - 1);
        if (!DeviceIds.isValid(ids.get(0)) || !DeviceIds.isValid(last)) {
            throw new UsageException("--prefix '" + prefix + "' makes device ids such as '" + last + "' that break the "
                    + "rule " + DeviceIds.rule());
        }
        return ids;
    }

    // ---- revoke and crl ----

    private int revoke(Arguments arguments) throws UsageException, IOException {
        FactoryDirectory dir = existingDirectory(arguments);
        if (arguments.value(DEVICES).isEmpty() && arguments.value(SERIAL).isEmpty()) {
            throw new UsageException("name what to revoke with " + DEVICES + " ID,... or " + SERIAL + " HEX,...");
        }
        RevokedEntry.Reason reason = RevokedEntry.Reason.byName(arguments.value(REASON).orElse("keyCompromise"))
                .orElseThrow(() -> new UsageException(REASON + " must be one of " + RevokedEntry.Reason.names()
                        + " (certificateHold is not offered: a revocation here is final)"));
        Validity nextUpdate = Validity.parse(NEXT_UPDATE, arguments.value(NEXT_UPDATE).orElse("30d"), false);
        MakerCa ca = openMakerCa(dir);
        char[] password = password(dir);
        try (AutoCloseable lock = dir.lock()) {
            List<IssuedEntry> issued = dir.issued();
            Map<BigInteger, String> targets = new LinkedHashMap<>();
            if (arguments.value(DEVICES).isPresent()) {
                for (String id : deviceIdList(arguments.required(DEVICES))) {
                    Set<BigInteger> serials = new LinkedHashSet<>();
                    issued.stream().filter(e -> e.deviceId().equals(id)).forEach(e -> serials.add(e.serial()));
                    if (Files.exists(dir.deviceFile(id))) {
                        serials.add(((X509Certificate) FactoryDirectory.readPkcs12(dir.deviceFile(id),
                                FactoryDirectory.DEVICE_ALIAS, password).getCertificate()).getSerialNumber());
                    }
                    if (serials.isEmpty()) {
                        throw new UsageException("device '" + id + "' has no IDevID from this maker CA: it is neither in "
                                + dir.issuedFile() + " nor in " + dir.devicesDir());
                    }
                    serials.forEach(s -> targets.put(s, id));
                }
            }
            if (arguments.value(SERIAL).isPresent()) {
                for (String text : arguments.required(SERIAL).split(",", -1)) {
                    BigInteger serial = serial(text);
                    String id = issued.stream().filter(e -> e.serial().equals(serial)).map(IssuedEntry::deviceId)
                            .findFirst().orElseThrow(() -> new UsageException("serial " + serial.toString(16)
                                    + " was not issued by this maker CA (it is not in " + dir.issuedFile() + ")"));
                    targets.putIfAbsent(serial, id);
                }
            }
            List<RevokedEntry> revoked = new ArrayList<>(dir.revoked());
            Set<BigInteger> already = new HashSet<>();
            revoked.forEach(e -> already.add(e.serial()));
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            int added = 0;
            for (Map.Entry<BigInteger, String> target : targets.entrySet()) {
                if (already.contains(target.getKey())) {
                    out.println("Serial " + target.getKey().toString(16) + " (" + target.getValue()
                            + ") is revoked already");
                    continue;
                }
                revoked.add(new RevokedEntry(target.getKey(), target.getValue(), now, reason));
                out.println("Revoked serial " + target.getKey().toString(16) + " (" + target.getValue() + "), "
                        + reason.rfcName());
                added++;
            }
            if (added > 0) {
                dir.writeRevoked(revoked);
            }
            writeCrl(dir, ca, revoked, nextUpdate);
            return OK;
        } catch (IOException | UsageException | RuntimeException e) {
            throw e;
        } catch (WrongPasswordException e) {
            throw wrongPassword(dir, e);
        } catch (Exception e) {
            throw new IOException(describe(e), e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private int crl(Arguments arguments) throws UsageException, IOException {
        FactoryDirectory dir = existingDirectory(arguments);
        Validity nextUpdate = Validity.parse(NEXT_UPDATE, arguments.value(NEXT_UPDATE).orElse("30d"), false);
        MakerCa ca = openMakerCa(dir);
        try (AutoCloseable lock = dir.lock()) {
            writeCrl(dir, ca, dir.revoked(), nextUpdate);
            return OK;
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(describe(e), e);
        }
    }

    /** RFC 5280 §5.2.3: each CRL gets a number higher than the one before. */
    private void writeCrl(FactoryDirectory dir, MakerCa ca, List<RevokedEntry> revoked, Validity nextUpdate)
            throws IOException {
        Optional<X509CRL> current = dir.currentCrl();
        BigInteger number = current.map(c -> FactoryDirectory.crlNumber(c).add(BigInteger.ONE)).orElse(BigInteger.ONE);
        Instant now = clock.instant();
        X509CRL crl = ca.crl(revoked, number, now, nextUpdate.notAfter(now));
        FactoryDirectory.replacePublic(dir.crlFile(), FactoryDirectory.pem(crl).getBytes(StandardCharsets.US_ASCII));
        out.printf(Locale.ROOT, "Wrote %s: CRL number %s, %d revoked, next update %s%n", dir.crlFile(), number,
                revoked.size(), crl.getNextUpdate().toInstant());
        out.println("Publish it before then: 'factory register' uploads it to the group, 'factory crl' renews it.");
    }

    private static BigInteger serial(String text) throws UsageException {
        String hex = text.trim().toLowerCase(Locale.ROOT).replace(":", "");
        if (hex.startsWith("0x")) {
            hex = hex.substring(2);
        }
        try {
            BigInteger serial = new BigInteger(hex, 16);
            if (serial.signum() > 0) {
                return serial;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new UsageException(SERIAL + " takes certificate serials in hex, as in issued.csv; got '" + text + "'");
    }

    // ---- register ----

    private int register(Arguments arguments)
            throws UsageException, FactoryException, FleetApiException, IOException, InterruptedException {
        FactoryDirectory dir = new FactoryDirectory(Path.of(arguments.required(DIR)));
        URI server = httpsServer(arguments.required(SERVER));
        Path caFile = Path.of(arguments.required(CA_CERT));
        List<X509Certificate> anchors;
        try {
            anchors = AgentTls.readTrustAnchors(caFile);
        } catch (NoSuchFileException e) {
            throw new UsageException(CA_CERT + " " + caFile + " does not exist");
        } catch (IllegalArgumentException e) {
            throw new UsageException(CA_CERT + " " + caFile + ": " + e.getMessage());
        }
        String adminToken = arguments.value(ADMIN_TOKEN).orElse(env.get(ADMIN_TOKEN_ENV));
        if (adminToken == null || adminToken.isBlank()) {
            throw new UsageException("no fleet API token: pass " + ADMIN_TOKEN + " or set " + ADMIN_TOKEN_ENV);
        }
        String group = arguments.required(GROUP);
        if (!DeviceIds.isValid(group)) {
            throw new UsageException(GROUP + " '" + group + "' is not a group name: " + DeviceIds.rule());
        }
        String profile = arguments.value(PROFILE).orElse("device");
        boolean registerDevices = !arguments.flag(NO_DEVICES);
        if (!registerDevices && arguments.value(DEVICES).isPresent()) {
            throw new UsageException(DEVICES + " and " + NO_DEVICES + " contradict each other; give one");
        }
        List<String> deviceIds = null;
        if (arguments.value(DEVICES).isPresent()) {
            deviceIds = deviceIdList(arguments.required(DEVICES));
        }
        List<X509Certificate> keepCas = null;
        if (arguments.value(KEEP_MAKER_CAS).isPresent()) {
            Path file = Path.of(arguments.required(KEEP_MAKER_CAS));
            try {
                keepCas = Certificates.fromPem(readText(file, KEEP_MAKER_CAS));
            } catch (IllegalArgumentException e) {
                throw new UsageException(KEEP_MAKER_CAS + " " + file + ": " + e.getMessage());
            }
        }
        List<String> keepCrls = null;
        if (arguments.value(KEEP_MAKER_CRLS).isPresent()) {
            keepCrls = crlPems(Path.of(arguments.required(KEEP_MAKER_CRLS)));
        }
        if (!Files.exists(dir.caCertificateFile())) {
            throw new UsageException(dir.dir() + " has no maker CA (" + FactoryDirectory.CA_CERTIFICATE + "); run "
                    + "'fleetkey-simulator factory init --dir " + dir.dir() + " --maker NAME' first");
        }
        if (registerDevices && deviceIds == null) {
            Set<String> all = new TreeSet<>(dir.deviceIdsOnDisk());
            dir.issued().forEach(e -> all.add(e.deviceId()));
            deviceIds = new ArrayList<>(all);
        }
        MakerRegistration.Outcome outcome;
        try {
            outcome = new MakerRegistration(new MakerRegistration.Settings(dir, server, anchors, adminToken.trim(), group,
                    profile, deviceIds, registerDevices, keepCas, keepCrls), out).run();
        } catch (ConnectException | UnknownHostException | HttpTimeoutException e) {
            throw new FactoryException("cannot reach " + server + " (" + e.getClass().getSimpleName() + "); check "
                    + SERVER + " and that the server runs", e);
        } catch (SSLException e) {
            throw new FactoryException("no TLS connection to " + server + ": " + describe(e) + "; check that " + CA_CERT
                    + " is the server's CA chain and that the host name is in its certificate", e);
        }
        return outcome.foreignDevices().isEmpty() ? OK : PARTLY_DONE;
    }

    /**
     * A maker registers with a real server, so any host will do; but only over https: the admin
     * token and the device list must not cross the network in the clear.
     */
    static URI httpsServer(String text) throws UsageException {
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(SERVER + " '" + text + "' is not a URL; use e.g. https://fleetkey.example.com:8443");
        }
        if ("http".equalsIgnoreCase(uri.getScheme())) {
            throw new UsageException(SERVER + " " + text + " is plain http; the fleet API is only used over https, "
                    + "which keeps the admin token secret: use https://" + (uri.getRawAuthority() == null ? "..."
                    : uri.getRawAuthority()));
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new UsageException(SERVER + " must be an https URL such as https://fleetkey.example.com:8443");
        }
        return uri;
    }

    private static List<String> crlPems(Path file) throws UsageException {
        String text = readText(file, KEEP_MAKER_CRLS);
        List<String> pems = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (!(o instanceof X509CRLHolder holder)) {
                    throw new UsageException(KEEP_MAKER_CRLS + " " + file + " holds a PEM block that is not an X509 CRL");
                }
                pems.add(FactoryDirectory.pem(holder));
            }
        } catch (IOException e) {
            throw new UsageException(KEEP_MAKER_CRLS + " " + file + " holds a CRL that cannot be read");
        }
        return pems;
    }

    private static String readText(Path file, String option) throws UsageException {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UsageException(option + " " + file + " cannot be read: " + describe(e));
        }
    }

    // ---- shared ----

    private FactoryDirectory existingDirectory(Arguments arguments) throws UsageException {
        FactoryDirectory dir = new FactoryDirectory(Path.of(arguments.required(DIR)));
        if (!Files.exists(dir.caStoreFile())) {
            throw new UsageException(dir.dir() + " has no maker CA (" + FactoryDirectory.CA_STORE + "); run "
                    + "'fleetkey-simulator factory init --dir " + dir.dir() + " --maker NAME' first");
        }
        return dir;
    }

    private MakerCa openMakerCa(FactoryDirectory dir) throws UsageException, IOException {
        char[] password = password(dir);
        try {
            return dir.loadMakerCa(password);
        } catch (WrongPasswordException e) {
            throw wrongPassword(dir, e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private UsageException wrongPassword(FactoryDirectory dir, WrongPasswordException e) {
        String source = env.get(PASSWORD_ENV) != null ? PASSWORD_ENV : dir.passwordFile().toString();
        return new UsageException(e.getMessage() + " (the password came from " + source + "); set " + PASSWORD_ENV
                + " to the password the maker CA was made with at 'factory init'");
    }

    /** The key stores' password: {@value #PASSWORD_ENV}, else the file init generated. */
    private char[] password(FactoryDirectory dir) throws UsageException, IOException {
        String fromEnv = env.get(PASSWORD_ENV);
        if (fromEnv != null) {
            return fromEnv.toCharArray();
        }
        if (Files.exists(dir.passwordFile())) {
            return readPasswordFile(dir);
        }
        throw new UsageException("no password for " + dir.caStoreFile() + ": set " + PASSWORD_ENV
                + " to the password given at 'factory init'");
    }

    private static char[] readPasswordFile(FactoryDirectory dir) throws IOException {
        byte[] bytes = Files.readAllBytes(dir.passwordFile());
        try {
            String text = new String(bytes, StandardCharsets.US_ASCII).strip();
            if (text.isEmpty()) {
                throw new IOException(dir.passwordFile() + " is empty; set " + PASSWORD_ENV + " instead");
            }
            return text.toCharArray();
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private static String maker(String text) throws UsageException {
        String maker = text.trim();
        if (maker.isEmpty() || maker.length() > MakerCa.MAX_MAKER_LENGTH || maker.chars().anyMatch(Character::isISOControl)) {
            throw new UsageException(MAKER + " must be 1 to " + MakerCa.MAX_MAKER_LENGTH
                    + " characters without control characters, e.g. \"Acme Devices\"");
        }
        return maker;
    }

    private static KeyType keyType(Arguments arguments, KeyType defaultType, Set<KeyType> allowed)
            throws UsageException {
        Optional<String> text = arguments.value(KEY);
        if (text.isEmpty()) {
            return defaultType;
        }
        Optional<KeyType> type = KeyType.byOptionName(text.get()).filter(allowed::contains);
        if (type.isEmpty()) {
            throw new UsageException(KEY + " must be one of " + Arrays.stream(KeyType.values()).filter(allowed::contains)
                    .map(KeyType::optionName).toList() + "; got '" + text.get() + "'");
        }
        return type.get();
    }

    /** Comma-separated device ids, each checked against the rule, none twice. */
    static List<String> deviceIdList(String text) throws UsageException {
        List<String> ids = new ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (String part : text.split(",", -1)) {
            String id = part.trim();
            if (!DeviceIds.isValid(id)) {
                throw new UsageException("device id '" + id + "' is not valid: " + DeviceIds.rule());
            }
            if (seen.put(id, Boolean.TRUE) != null) {
                throw new UsageException("device id '" + id + "' is given twice");
            }
            ids.add(id);
        }
        if (ids.size() > MAX_BATCH) {
            throw new UsageException("at most " + MAX_BATCH + " devices at once");
        }
        return ids;
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
