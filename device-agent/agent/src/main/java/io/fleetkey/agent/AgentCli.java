package io.fleetkey.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.net.ssl.SSLException;

import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.FailureCode;

/**
 * The agent's command line: {@code enroll}, {@code renew}, {@code status} and the long-running
 * {@code run}. Settings come from options, then {@code FLEETKEY_AGENT_*} variables, then a
 * {@code --config} file ({@link AgentSettings}). Expected failures end with one message that says
 * what to do and a non-zero exit status; stack traces are for bugs only. Tokens and keys are
 * never printed.
 */
public final class AgentCli {
    /** Exit statuses, documented in {@link #USAGE}. */
    static final int OK = 0;
    static final int REFUSED = 1;
    static final int USAGE = 2;
    static final int PENDING = 3;
    static final int UNREACHABLE = 4;
    static final int LOCAL_PROBLEM = 5;
    static final int REVOKED = 6;
    static final int BUG = 70;

    static final String IDEVID_PASSWORD_ENV = "FLEETKEY_IDEVID_PASSWORD";
    /** Protects DIR/device.p12; empty when unset (the file's 0600 mode protects it). */
    static final String KEYSTORE_PASSWORD_ENV = "FLEETKEY_KEYSTORE_PASSWORD";

    static final String TOKEN_ENV = "FLEETKEY_ENROLLMENT_TOKEN";
    static final String DEFAULT_DIR = "fleetkey";

    static final String DOOR = "--door";
    static final String SERVER = "--server";
    static final String COAP = "--coap";
    static final String MQTT = "--mqtt";
    static final String CA_CERT = "--ca-cert";
    static final String DEVICE_ID = "--device-id";
    private static final String TOKEN = "--token";
    static final String DIR = "--dir";
    private static final String IDEVID = "--idevid";
    private static final String CONFIG = "--config";
    private static final String HELP = "--help";
    /** Options that are also settings (file key = option name without the dashes). */
    private static final Set<String> SETTING_OPTIONS = Set.of(DOOR, SERVER, COAP, MQTT, CA_CERT, DEVICE_ID, DIR, IDEVID);

    static final String USAGE_TEXT = """
            Usage: fleetkey-agent <command> [options]

            Commands:
              enroll   get this device's first certificate: with a one-time enrollment token, or
                       with the factory identity (--idevid) signing attestation evidence
              renew    replace the key and certificate, authenticated by the current certificate
              status   show the current identity, its validity and when it is due for renewal
              run      keep running: enroll if needed, renew on time, retry, stop when revoked
              help     show this text

            enroll options:
              --door DOOR       how to reach the server: https (default), coaps or mqtt
              --server URL      the HTTPS door, e.g. https://fleetkey.example.com:8443 (for --door https)
              --coap URL        the CoAP/DTLS door, e.g. coaps://fleetkey.example.com:5684 (for --door coaps)
              --mqtt URL        the MQTT broker over TLS, e.g. ssl://fleetkey.example.com:8883 (for --door mqtt)
              --ca-cert FILE    the Fleetkey CA chain (PEM) to trust; the server's data/ca/chain.pem
              --device-id ID    this device's id: 1 to 64 characters from A-Z a-z 0-9 . _ -
              --token TOKEN     the one-time enrollment token; better set %s instead,
                                which keeps it out of shell history and the process list
              --idevid FILE     the factory identity (PKCS#12 from the maker); its password
                                from %s
              --dir DIR         where the key and certificates live (default: ./%s)
              --config FILE     a settings file (key = value); options win over FLEETKEY_AGENT_*
                                variables, which win over the file (see docs/agent.md)

            renew options:
              --door, --server, --coap, --mqtt, --ca-cert, --dir, --config   as for enroll
            status options: --dir, --config
            run options: those of enroll; the token or --idevid is needed only to enroll
            Only the address of the chosen door is needed; the others may be given and are ignored.
            Evidence settings (attestation.*) in the --config file add attestation evidence to
            every request (docs/agent-attestation.md).

            Files in DIR: device.p12 (key and chain, PKCS#12, mode 0600; password from
            FLEETKEY_KEYSTORE_PASSWORD, empty when unset), device.key (the key as PKCS#8 PEM,
            mode 0600), device.crt (device certificate and its issuing CA), ca.pem (the server's
            CA certificates). Renewal replaces them all at once.

            Exit status: 0 done; 1 refused by the server (or its MQTT broker); 2 usage error;
            3 waiting for approval, run the same command again later; 4 server unreachable,
            timeout, or TLS/DTLS failure; 5 local problem (files; not enrolled; expired);
            6 the device is revoked (do not restart it in a loop).
            """.formatted(TOKEN_ENV, IDEVID_PASSWORD_ENV, DEFAULT_DIR);

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    AgentCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    public static void main(String[] args) {
        // Californium logs through slf4j-api, and the command line jar carries no binding: what matters reaches
        // the user as this command's own message. Keep slf4j's note about the missing binding off the terminal.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        System.exit(new AgentCli(System.out, System.err, System.getenv()).run(args));
    }

    /** Runs one command and returns the exit status. */
    int run(String[] args) {
        if (args.length == 0) {
            err.print(USAGE_TEXT);
            return USAGE;
        }
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        if (Set.of("help", HELP, "-h").contains(command) || rest.contains(HELP) || rest.contains("-h")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        try {
            return switch (command) {
                case "enroll" -> enroll(options(Arguments.parse(rest,
                        Set.of(DOOR, SERVER, COAP, MQTT, CA_CERT, DEVICE_ID, TOKEN, DIR, IDEVID, CONFIG), Set.of())));
                case "renew" -> renew(options(Arguments.parse(rest,
                        Set.of(DOOR, SERVER, COAP, MQTT, CA_CERT, DIR, CONFIG), Set.of())));
                case "status" -> status(options(Arguments.parse(rest, Set.of(DIR, CONFIG), Set.of())));
                case "run" -> new AgentService(this, options(Arguments.parse(rest,
                        Set.of(DOOR, SERVER, COAP, MQTT, CA_CERT, DEVICE_ID, TOKEN, DIR, IDEVID, CONFIG), Set.of())))
                        .run();
                default -> throw new UsageException("unknown command '" + command
                        + "'; use enroll, renew, status or run");
            };
        } catch (UsageException e) {
            err.println("fleetkey-agent: " + e.getMessage());
            err.println("Run 'fleetkey-agent --help' for the options.");
            return USAGE;
        } catch (Failure e) {
            err.println("fleetkey-agent: " + e.getMessage());
            return e.status;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("fleetkey-agent: interrupted");
            return UNREACHABLE;
        } catch (RuntimeException e) {
            err.println("fleetkey-agent: internal error, please report it: " + e);
            e.printStackTrace(err);
            return BUG;
        }
    }

    /**
     * The command's settings: its options over the FLEETKEY_AGENT_* variables over the
     * --config file. The token is not a setting: it comes from --token or FLEETKEY_ENROLLMENT_TOKEN.
     */
    final class Options {
        final Arguments arguments;
        final AgentSettings settings;

        Options(Arguments arguments, AgentSettings settings) {
            this.arguments = arguments;
            this.settings = settings;
        }

        Optional<String> value(String option) {
            return SETTING_OPTIONS.contains(option) ? settings.get(option.substring(2)) : arguments.value(option);
        }

        String required(String option) throws UsageException {
            Optional<String> value = value(option);
            if (value.isEmpty()) {
                String key = option.substring(2);
                throw new UsageException("missing " + option + (SETTING_OPTIONS.contains(option) ? " (or '" + key
                        + "' in the --config file, or " + AgentSettings.envName(key) + ")" : ""));
            }
            return value.get();
        }

        Map<String, String> env() {
            return env;
        }
    }

    private Options options(Arguments arguments) throws UsageException, Failure {
        Map<String, String> fromCommandLine = new java.util.HashMap<>();
        for (String option : SETTING_OPTIONS) {
            arguments.value(option).ifPresent(v -> fromCommandLine.put(option.substring(2), v));
        }
        try {
            Path config = arguments.value(CONFIG).map(Path::of).orElse(null);
            return new Options(arguments, AgentSettings.load(config, env).with(fromCommandLine, "the command line"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        } catch (IOException e) {
            throw new Failure(LOCAL_PROBLEM, "cannot read the --config file: " + describe(e));
        }
    }

    PrintStream out() {
        return out;
    }

    PrintStream err() {
        return err;
    }

    IdentityDirectory directory(Options options) {
        String password = env.get(KEYSTORE_PASSWORD_ENV);
        return new IdentityDirectory(Path.of(options.value(DIR).orElse(DEFAULT_DIR)),
                password == null ? new char[0] : password.toCharArray());
    }

    DeviceKeyType keyType(Options options) throws UsageException {
        try {
            return options.settings.keyType();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** What first enrollment needs, besides the door: a token, or a factory identity, or both. */
    record Credentials(String token, Optional<FactoryIdentity> factory) {
        @Override
        public String toString() {
            return "Credentials[token=" + (token == null ? "none" : "<hidden>") + ", factory=" + factory + "]";
        }
    }

    Credentials credentials(Options options) throws UsageException, Failure {
        Optional<FactoryIdentity> factory = Optional.empty();
        Optional<String> idevid = options.value(IDEVID);
        if (idevid.isPresent()) {
            String password = env.get(IDEVID_PASSWORD_ENV);
            if (password == null) {
                throw new UsageException("--idevid needs its password in " + IDEVID_PASSWORD_ENV);
            }
            try {
                factory = Optional.of(FactoryIdentity.load(Path.of(idevid.get()), password.toCharArray()));
            } catch (IOException | RuntimeException e) {
                throw new Failure(LOCAL_PROBLEM, "the factory identity " + idevid.get() + " cannot be used: "
                        + e.getMessage() + " (its password comes from " + IDEVID_PASSWORD_ENV + ")");
            }
        }
        String token = tokenOrNull(options.arguments);
        if (token == null && factory.isEmpty()) {
            throw new UsageException("no enrollment token and no factory identity: set " + TOKEN_ENV
                    + " (or pass --token), or pass --idevid with the device's IDevID");
        }
        return new Credentials(token, factory);
    }

    /** Attestation evidence for every request, when the settings describe it, signed as AttestationSource says. */
    List<CsrAttributeSource> attributeSources(Options options, Optional<FactoryIdentity> factory) throws UsageException {
        boolean evidence = options.settings.asMap().keySet().stream().anyMatch(k -> k.startsWith("attestation."));
        // Through an external broker the server sees no TLS certificate: a signed statement proves a renewal.
        boolean mqtt = Door.of(options) == Door.MQTT;
        if (!evidence && factory.isEmpty() && !mqtt) {
            return List.of();
        }
        try {
            Optional<EvidenceSource> source = evidence ? Optional.of(EvidenceSource.fromSettings(options.settings.asMap()))
                    : Optional.empty();
            return List.of(new AttestationSource(factory, source, java.time.Clock.systemUTC()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private int enroll(Options arguments) throws UsageException, Failure, InterruptedException {
        Door door = Door.of(arguments);
        URI server = door.address(arguments);
        Path caFile = Path.of(arguments.required(CA_CERT));
        String deviceId = arguments.required(DEVICE_ID);
        if (!DeviceIds.isValid(deviceId)) {
            throw new UsageException("--device-id '" + deviceId + "' is not a valid device id: use " + DeviceIds.rule());
        }
        Credentials credentials = credentials(arguments);
        String token = credentials.token();
        List<CsrAttributeSource> sources = attributeSources(arguments, credentials.factory());
        IdentityDirectory directory = directory(arguments);
        List<X509Certificate> anchors = trustAnchors(caFile);

        try (IdentityDirectory.Lock lock = lock(directory)) {
            Optional<DeviceIdentity> existing = loadIdentity(directory);
            if (existing.isPresent()) {
                throw new Failure(LOCAL_PROBLEM, directory.dir() + " already holds the identity of device '"
                        + existing.get().deviceId() + "' (certificate " + existing.get().serialHex() + ", valid until "
                        + existing.get().notAfter() + "). Use 'fleetkey-agent renew' to replace it, or another --dir.");
            }
            DeviceIdentity identity;
            try (EstTransport est = door.transport(server, deviceId, anchors, null)) {
                identity = new DeviceEnroller(est, anchors, directory, sources).withKeyType(keyType(arguments))
                        .enroll(deviceId, token);
            }
            out.println("Enrolled device '" + identity.deviceId() + "': certificate " + identity.serialHex()
                    + ", valid until " + identity.notAfter());
            printFiles(directory);
            return OK;
        } catch (EstException e) {
            throw new Failure(REFUSED, explain(e, false, deviceId));
        } catch (EnrollmentPendingException e) {
            throw pending(e, deviceId, directory);
        } catch (IOException e) {
            throw io(e, door, server, caFile, directory);
        }
    }

    private int renew(Options arguments) throws UsageException, Failure, InterruptedException {
        List<CsrAttributeSource> sources = attributeSources(arguments, Optional.empty());
        Door door = Door.of(arguments);
        URI server = door.address(arguments);
        Path caFile = Path.of(arguments.required(CA_CERT));
        IdentityDirectory directory = directory(arguments);
        List<X509Certificate> anchors = trustAnchors(caFile);

        String deviceId = "?";
        try (IdentityDirectory.Lock lock = lock(directory)) {
            DeviceIdentity current = loadIdentity(directory).orElseThrow(() -> new Failure(LOCAL_PROBLEM,
                    directory.dir() + " holds no identity to renew. Enroll first with 'fleetkey-agent enroll', "
                            + "or point --dir at the directory used then."));
            deviceId = current.deviceId();
            DeviceIdentity renewed;
            try (EstTransport est = door.transport(server, deviceId, anchors, current)) {
                renewed = new DeviceEnroller(est, anchors, directory, sources).withKeyType(keyType(arguments))
                        .renew();
            }
            out.println("Renewed device '" + renewed.deviceId() + "': certificate " + renewed.serialHex()
                    + " replaces " + current.serialHex() + ", valid until " + renewed.notAfter());
            printFiles(directory);
            return OK;
        } catch (EstException e) {
            throw new Failure(REFUSED, explain(e, true, deviceId));
        } catch (EnrollmentPendingException e) {
            throw pending(e, deviceId, directory);
        } catch (IOException e) {
            throw io(e, door, server, caFile, directory);
        }
    }

    private int status(Options options) throws Failure, UsageException {
        IdentityDirectory directory = directory(options);
        Optional<DeviceIdentity> identity = loadIdentity(directory);
        if (identity.isEmpty()) {
            throw new Failure(LOCAL_PROBLEM, directory.dir() + " holds no identity: the device has not enrolled "
                    + "('fleetkey-agent enroll' or 'run')");
        }
        DeviceIdentity id = identity.get();
        X509Certificate cert = id.certificate();
        java.time.Instant from = cert.getNotBefore().toInstant();
        RenewalPolicy policy;
        try {
            policy = options.settings.renewalPolicy();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        java.time.Instant due = from.plusMillis((long) (java.time.Duration.between(from, id.notAfter()).toMillis()
                * policy.share()));
        java.time.Instant now = java.time.Instant.now();
        out.println("device        " + id.deviceId());
        out.println("certificate   " + id.serialHex() + " issued by " + cert.getIssuerX500Principal().getName());
        out.println("valid         " + from + " to " + id.notAfter());
        out.println("last renewal  " + from + " (when this certificate was issued)");
        out.println("renewal due   " + due + (due.isBefore(now) ? " (due now)" : "") + ", plus up to "
                + policy.maxJitter().toMinutes() + " min of jitter");
        out.println("directory     " + directory.dir());
        if (!now.isBefore(id.notAfter())) {
            throw new Failure(LOCAL_PROBLEM, "the certificate ended at " + id.notAfter() + "; enroll again "
                    + "('fleetkey-agent run' does it with the factory identity or a new token)");
        }
        return OK;
    }

    private void printFiles(IdentityDirectory directory) {
        out.println("  key store     " + directory.keyStoreFile() + " (PKCS#12: key and chain, mode 0600)");
        out.println("  private key   " + directory.keyFile() + " (PKCS#8 PEM, mode 0600)");
        out.println("  certificate   " + directory.certificateFile());
        out.println("  CA certs      " + directory.caFile());
    }

    /** The three doors of the server and the option that gives each one's address. */
    enum Door {
        HTTPS("https", SERVER, "https://fleetkey.example.com:8443", Set.of("https")),
        COAPS("coaps", COAP, "coaps://fleetkey.example.com:5684", Set.of("coaps")),
        MQTT("mqtt", AgentCli.MQTT, "ssl://fleetkey.example.com:8883", Set.of("ssl", "mqtts"));

        private final String name;
        private final String option;
        private final String example;
        private final Set<String> schemes;

        Door(String name, String option, String example, Set<String> schemes) {
            this.name = name;
            this.option = option;
            this.example = example;
            this.schemes = schemes;
        }

        static Door of(Options arguments) throws UsageException {
            String text = arguments.value(DOOR).orElse(HTTPS.name);
            for (Door door : values()) {
                if (door.name.equalsIgnoreCase(text)) {
                    return door;
                }
            }
            throw new UsageException("--door '" + text + "' is not a door; use https, coaps or mqtt");
        }

        /** This door's address from its option, checked. */
        URI address(Options arguments) throws UsageException {
            String text = arguments.value(option).orElseThrow(() -> new UsageException("--door " + name + " needs "
                    + option + " with the address, e.g. " + option + " " + example));
            URI uri;
            try {
                uri = URI.create(text);
            } catch (IllegalArgumentException e) {
                throw new UsageException(option + " '" + text + "' is not a URL; use e.g. " + example);
            }
            if (uri.getScheme() == null || !schemes.contains(uri.getScheme().toLowerCase(java.util.Locale.ROOT))
                    || uri.getHost() == null) {
                throw new UsageException(option + " must be a URL such as " + example + "; got '" + text + "'");
            }
            return uri;
        }

        /** A transport to the address, presenting the identity when there is one. */
        EstTransport transport(URI address, String deviceId, List<X509Certificate> anchors, DeviceIdentity identity)
                throws IOException {
            try {
                return switch (this) {
                    case HTTPS -> new EstHttpsClient(address, identity == null ? AgentTls.trusting(anchors)
                            : AgentTls.trusting(anchors, () -> identity));
                    case COAPS -> new EstCoapsClient(address, anchors, identity);
                    case MQTT -> new EstMqttClient(address, deviceId, anchors, identity);
                };
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    private String tokenOrNull(Arguments arguments) {
        Optional<String> option = arguments.value(TOKEN);
        if (option.isPresent()) {
            err.println("fleetkey-agent: note: --token is visible in the process list and shell history; "
                    + "prefer " + TOKEN_ENV + ".");
            return option.get();
        }
        String fromEnv = env.get(TOKEN_ENV);
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.trim();
    }

    static List<X509Certificate> trustAnchors(Path caFile) throws Failure {
        try {
            return AgentTls.readTrustAnchors(caFile);
        } catch (NoSuchFileException e) {
            throw new Failure(LOCAL_PROBLEM, "--ca-cert " + caFile + ": no such file. Copy the Fleetkey CA chain "
                    + "(data/ca/chain.pem on the server, or GET /api/v1/ca/chain) to the device.");
        } catch (IOException | IllegalArgumentException e) {
            throw new Failure(LOCAL_PROBLEM, "--ca-cert " + caFile + " cannot be used: " + e.getMessage()
                    + ". It must hold the Fleetkey CA chain as PEM CERTIFICATE blocks.");
        }
    }

    static IdentityDirectory.Lock lock(IdentityDirectory directory) throws Failure {
        try {
            return directory.lock();
        } catch (IOException e) {
            throw new Failure(LOCAL_PROBLEM, "cannot use " + directory.dir() + ": " + describe(e));
        }
    }

    static Optional<DeviceIdentity> loadIdentity(IdentityDirectory directory) throws Failure {
        try {
            return directory.load();
        } catch (IOException e) {
            throw new Failure(LOCAL_PROBLEM, "the identity in " + directory.dir() + " cannot be read: " + describe(e));
        }
    }

    static Failure pending(EnrollmentPendingException e, String deviceId, IdentityDirectory directory) {
        return new Failure(PENDING, "the server holds the request of device '" + deviceId + "': " + e.reason()
                + ". Run the same command again in " + e.retryAfter().toSeconds() + " s or later; the key that "
                + "waits for approval is kept in " + directory.dir().resolve("pending") + ".");
    }

    /** What a refusal means for the person at the device, and what to do about it. */
    static String explain(EstException e, boolean renewal, String deviceId) {
        String said = " (server: " + e.reason() + ")";
        Optional<FailureCode> code = e.code();
        if (code.isEmpty()) {
            return switch (e.status()) {
                case 200 -> "the server's answer cannot be used: " + e.reason();
                case 404 -> "the server has no EST service at that address (" + e.wireStatus() + "); check the "
                        + "address (--server, --coap or --mqtt)" + said;
                case 401, 403 -> "the server refused the request (" + e.wireStatus() + ")" + said;
                default -> e.status() >= 500
                        ? "the server failed (" + e.wireStatus() + "); try again later" + said
                        : "the server refused the request (" + e.wireStatus() + ")" + said;
            };
        }
        return switch (code.get()) {
            case NOT_AUTHENTICATED -> renewal
                    ? "the server did not accept the current certificate for renewal" + said
                    : "the server did not accept the credentials: check the device id and the enrollment token" + said;
            case UNTRUSTED_CLIENT_CERTIFICATE -> "the server does not accept the current certificate (expired, or "
                    + "issued by another CA?); enroll again with a new token from a fleet manager" + said;
            case UNKNOWN_DEVICE -> "device '" + deviceId + "' is not registered; check --device-id, or ask a fleet "
                    + "manager to register it" + said;
            case TOKEN_USED -> "the enrollment token was already used; ask a fleet manager for a new one "
                    + "(POST /api/v1/devices/" + deviceId + "/enrollment-token)" + said;
            case TOKEN_EXPIRED -> "the enrollment token has expired; ask a fleet manager for a new one "
                    + "(POST /api/v1/devices/" + deviceId + "/enrollment-token)" + said;
            case SUBJECT_MISMATCH -> "the server says this request is for another device; check --device-id" + said;
            case DEVICE_REVOKED -> "device '" + deviceId + "' is revoked and cannot get certificates; contact "
                    + "a fleet manager" + said;
            case UNAVAILABLE -> "the server cannot serve the request right now; try again later" + said;
            case STALE_EVIDENCE -> "the server found the device's evidence stale (its nonce was used or expired, or "
                    + "it was made too long ago); check the device's clock and try again" + said;
            case ATTESTATION_REQUIRED -> "the device's group requires attestation evidence with a fresh nonce; this "
                    + "device must enroll with its factory identity (IDevID)" + said;
            case ATTESTATION_FAILED -> "the server refused the device's attestation (firmware, model, version or "
                    + "debug state do not match the group's reference values); ask a fleet manager" + said;
            case MALFORMED_REQUEST, BAD_CSR_SIGNATURE, KEY_NOT_ALLOWED, POLICY_VIOLATION, PAYLOAD_TOO_LARGE,
                    UNSUPPORTED_MEDIA_TYPE -> "the server refused the request as " + code.get() + "; the agent and "
                    + "the server's policy do not fit together, ask a fleet manager" + said;
        };
    }

    /** Network and TLS failures, with the likely cause and its fix. */
    static Failure io(IOException e, Door door, URI server, Path caFile, IdentityDirectory directory) {
        String host = server.getHost();
        String option = door.option;
        if (e instanceof EstMqttClient.BrokerRefusal refusal) {
            return new Failure(REFUSED, refusal.getMessage() + ". Check --device-id and that a fleet manager "
                    + "registered the device; a device with a certificate must present a current one");
        }
        if (e instanceof HttpConnectTimeoutException) {
            return new Failure(UNREACHABLE, "no connection to " + server + " within "
                    + EstHttpsClient.Timeouts.DEFAULT.connect().toSeconds() + " s; check " + option + " and the network");
        }
        if (e instanceof HttpTimeoutException || e instanceof SocketTimeoutException) {
            return new Failure(UNREACHABLE, server + " did not answer in time; check " + option
                    + " and try again later (" + describe(e) + ")");
        }
        if (hasCause(e, UnresolvedAddressException.class) || hasCause(e, UnknownHostException.class)) {
            return new Failure(UNREACHABLE, "cannot resolve the host name '" + host + "'; check " + option + " and DNS");
        }
        if (e instanceof ConnectException || hasCause(e, ConnectException.class)) {
            return new Failure(UNREACHABLE, "cannot connect to " + server + " (connection refused or unreachable); "
                    + "check " + option + " and that the server is running");
        }
        if (hasCause(e, SSLException.class)) {
            if (hasCause(e, CertificateExpiredException.class) || hasCause(e, CertificateNotYetValidException.class)) {
                return new Failure(UNREACHABLE, "the server's TLS certificate is outside its validity period by this "
                        + "device's clock; check the device's date and time (" + describe(e) + ")");
            }
            if (hasCause(e, CertPathValidatorException.class)
                    || String.valueOf(e.getMessage()).contains("PKIX path")) {
                return new Failure(UNREACHABLE, "the server's TLS certificate does not chain to the CA certificates in "
                        + "--ca-cert " + caFile + "; use the Fleetkey CA chain of this server (data/ca/chain.pem) ("
                        + describe(e) + ")");
            }
            if (String.valueOf(rootCause(e).getMessage()).contains("subject alternative")) {
                return new Failure(UNREACHABLE, "the server's TLS certificate is not issued for '" + host + "'; use a "
                        + "host name the server's certificate names (" + describe(e) + ")");
            }
            return new Failure(UNREACHABLE, "TLS with " + server + " failed: " + describe(e));
        }
        if (e.getMessage() != null && e.getMessage().contains(directory.dir().toString())) {
            return new Failure(LOCAL_PROBLEM, "cannot use " + directory.dir() + ": " + describe(e));
        }
        if (e instanceof java.nio.file.FileSystemException) {
            return new Failure(LOCAL_PROBLEM, "file problem: " + describe(e));
        }
        if (hasCause(e, CertPathValidatorException.class)) {
            return new Failure(UNREACHABLE, "the server's certificate does not chain to the CA certificates in "
                    + "--ca-cert " + caFile + "; use the Fleetkey CA chain of this server (data/ca/chain.pem) ("
                    + describe(e) + ")");
        }
        return new Failure(UNREACHABLE, "talking to " + server + " failed: " + describe(e));
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    static String describe(Throwable e) {
        Throwable root = rootCause(e);
        String message = e.getMessage() != null ? e.getMessage() : root.getMessage();
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + message;
        }
        return message == null ? e.getClass().getSimpleName() : message;
    }

    /** An expected failure: its message is the whole story, its status the exit status. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        Failure(int status, String message) {
            super(message);
            this.status = status;
        }

        int status() {
            return status;
        }
    }
}
