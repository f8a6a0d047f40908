package io.fleetkey.simulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.agent.Arguments;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.simulator.factory.FactoryCommand;
import io.fleetkey.simulator.report.FailureThreshold;
import io.fleetkey.simulator.report.ProgressLine;
import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.RunReport;
import io.fleetkey.simulator.report.TextSummary;

/**
 * The simulator's command line. Scenarios run real agents against a server on this machine;
 * {@code factory} makes factory identities (IDevIDs) for devices to enroll with.
 */
public final class SimulatorCli {
    static final int OK = FailureThreshold.EXIT_OK;
    static final int FAILURES = FailureThreshold.EXIT_FAILURES;
    static final int USAGE = 2;
    static final int SETUP_FAILED = 4;

    static final int MAX_DEVICES = 200_000;
    static final int MAX_CONCURRENCY = 512;
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    static final Duration MAX_TIMEOUT = Duration.ofHours(2);
    static final String ADMIN_TOKEN_ENV = "FLEETKEY_ADMIN_TOKEN";

    static final String USAGE_TEXT = """
            Usage: fleetkey-simulator <scenario> [options]
                   fleetkey-simulator factory <command> [options]

            First look:
              demo           starts a server in this process and runs a small fleet on all three
                             doors: enroll, renew, revoke one device per door and show it cut off
                             (--server-jar FILE if server/target/fleetkey-server.jar is not found,
                             --report-dir DIR, default fleetkey-demo-report)

            Scenarios:
              storm          N simulated devices, each run by the agent's own code: first boot on
                             HTTPS, CoAP/DTLS and MQTT by share (at once or ramped), then an
                             optional renewal wave and revocation of a share with a cut-off check
              enroll-storm   the server's enrollment path alone: N CSRs made before the clock
                             start, sent over HTTPS (EST simpleenroll), no agent code

            Tools:
              factory        a maker CA and factory identities (IDevIDs) for a batch of devices:
                             init, issue, revoke, crl, register; 'factory --help' shows them

            storm options (besides --server, --ca-cert, --admin-token, --devices,
            --concurrency, --group, --timeout, --report-dir, --max-failures as below):
              --doors MIX          doors by weight, e.g. https, https=2,coap=1,mqtt=1 (default: https)
              --coap URI           the CoAP door, e.g. coaps://localhost:5684 (needed for coap)
              --mqtt URI           the MQTT door, e.g. ssl://localhost:8883 (needed for mqtt)
              --ramp R             first boot at R devices a second instead of all at once
              --first-boot PROOF   how devices prove themselves on first boot: token (a one-time
                                   enrollment token, the default) or idevid (a statement signed
                                   by a factory identity: the storm makes a maker CA and an IDevID
                                   per device and trusts the CA in a new --group)
              --renew              after first boot, every enrolled device renews once
              --churn SHARE        then this share of the enrolled fleet (e.g. 10%%) comes and goes:
                                   half was away and renews, half was reset (a new token from the
                                   fleet API, a fresh key, first boot again), and as many new
                                   devices join; interleaved, at the --ramp rate if one is given
              --revoke SHARE       revoke this share of the enrolled devices (e.g. 10%%) through the
                                   fleet API, then check that each is turned away on its door
              --coap-loss SHARE    CoAP devices reach the door through a relay that drops this
                                   share of datagrams each way (0%% to 50%%), reported as a fault
              --coap-delay D       ... and holds every datagram this long (e.g. 80ms)
              --in-process-server  start a server in this process (like demo) instead of --server,
                                   --ca-cert, --admin-token, --coap and --mqtt; --server-jar FILE
                                   if server/target/fleetkey-server.jar is not found
              --restart-server-after D
                                   with --in-process-server: stop the server D into first boot and
                                   start it again; devices that did not enroll try once more after
              --mosquitto          with --in-process-server: the server's MQTT door is a Mosquitto
                                   broker the simulator runs (Debian: apt-get install mosquitto)
                                   instead of the embedded one
              --restart-broker-after D
                                   with --mosquitto: stop the broker D into first boot and start
                                   it again; devices that did not enroll try once more after
              --baseline DURATION  measure the crypto-only rate (sign+verify P-256, one thread per
                                   core) this long before the run, for comparison; 0s for none
                                   (default: 3s)
              --max-failures counts every operation: enroll, renew, churn, revoke and cut-off check.

            enroll-storm options:
              --server URL         the Fleetkey server on this machine, e.g. https://localhost:8443
              --ca-cert FILE       the server's CA chain (PEM), e.g. data/ca/chain.pem
              --admin-token T      a fleet API token; or set %s
              --devices N          how many devices to register and enroll (1 to %d)
              --concurrency C      how many enrollments run at once, one thread each (1 to %d)
              --group G            the enrollment group, created if missing (default: simulator)
              --timeout DURATION   bound of the whole run, e.g. 90s, 10m (default: 10m)
              --report-dir DIR     also write the report there: report.json, report.html, report.txt
              --max-failures T     unsuccessful enrollments allowed before the exit status is 1:
                                   a count (0, 25) or a share (0.5%%) (default: 0)

            The storm registers the devices through the fleet API (in chunks of %d), makes
            their keys and CSRs, then starts the clock. It prints progress every second and a
            report at the end. Only servers on this machine (loopback) are accepted.

            enroll-storm exit status: 0 no more enrollments failed or did not run than
            --max-failures allows; 1 more did; 2 usage error; 4 set-up failed.
            """.formatted(ADMIN_TOKEN_ENV, MAX_DEVICES, MAX_CONCURRENCY, EnrollStorm.REGISTRATION_CHUNK);

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    SimulatorCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    public static void main(String[] args) {
        System.exit(new SimulatorCli(System.out, System.err, System.getenv()).run(args));
    }

    int run(String[] args) {
        if (args.length == 0) {
            err.print(USAGE_TEXT);
            return USAGE;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        if ("factory".equals(args[0])) {
            return new FactoryCommand(out, err, env).run(rest);
        }
        if ("demo".equals(args[0]) && !rest.contains("--help")) {
            return demo(rest);
        }
        if (Set.of("help", "--help", "-h").contains(args[0]) || rest.contains("--help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        InProcessServer inProcess = null;
        EnrollStorm.Settings counts = null;
        try {
            boolean storm = "storm".equals(args[0]);
            if (!storm && !"enroll-storm".equals(args[0])) {
                throw new UsageException("unknown scenario '" + args[0] + "'; use storm, enroll-storm or factory");
            }
            Set<String> withValue = new java.util.HashSet<>(Set.of("--server", "--ca-cert", "--admin-token",
                    "--devices", "--concurrency", "--group", "--timeout", "--report-dir", "--max-failures"));
            if (storm) {
                withValue.addAll(Set.of("--doors", "--coap", "--mqtt", "--ramp", "--churn", "--revoke", "--first-boot", "--baseline", "--coap-loss",
                        "--coap-delay", "--server-jar", "--restart-server-after", "--restart-broker-after"));
            }
            Arguments arguments = Arguments.parse(rest, withValue, storm ? Set.of("--renew", "--in-process-server", "--mosquitto")
                    : Set.of());
            FailureThreshold threshold = failureThreshold(arguments);
            Optional<Path> reportDir = arguments.value("--report-dir").map(Path::of);
            if (reportDir.isPresent() && Files.exists(reportDir.get()) && !Files.isDirectory(reportDir.get())) {
                throw new UsageException("--report-dir " + reportDir.get() + " is a file, not a folder");
            }
            if (storm && arguments.flag("--in-process-server")) {
                for (String option : List.of("--server", "--ca-cert", "--admin-token", "--coap", "--mqtt")) {
                    if (arguments.value(option).isPresent()) {
                        throw new UsageException("--in-process-server starts its own server; leave out " + option);
                    }
                }
                Path jar = InProcessServer.findJar(arguments.value("--server-jar")).orElseThrow(() -> new UsageException(
                        "--in-process-server cannot find the server jar: build it with 'mvn -pl server -am package "
                                + "-DskipTests' in the repository, or pass --server-jar FILE"));
                // every other option is checked before a server starts
                counts = stormSettings(arguments, true);
                fleetSettings(arguments, null, null);
                out.println("Starting a Fleetkey server in this process from " + jar + "...");
                boolean mosquitto = arguments.flag("--mosquitto");
                if (mosquitto && MosquittoBroker.findBinary().isEmpty()) {
                    throw new UsageException("--mosquitto needs the mosquitto broker: apt-get install mosquitto");
                }
                if (arguments.value("--restart-broker-after").isPresent() && !mosquitto) {
                    throw new UsageException("--restart-broker-after needs --mosquitto: the simulator can only "
                            + "restart a broker it runs (the embedded broker restarts with the server)");
                }
                if (arguments.value("--restart-server-after").isPresent()
                        && arguments.value("--restart-broker-after").isPresent()) {
                    throw new UsageException("restart either the server or the broker in one run, not both");
                }
                inProcess = InProcessServer.start(jar, mosquitto);
                out.println("Server up: " + inProcess.doors() + ", data in " + inProcess.data());
            } else if (arguments.flag("--mosquitto") || arguments.value("--restart-broker-after").isPresent()) {
                throw new UsageException("--mosquitto and --restart-broker-after need --in-process-server: the "
                        + "simulator runs the broker for a server it starts");
            } else if (arguments.value("--restart-server-after").isPresent()) {
                throw new UsageException("--restart-server-after needs --in-process-server: the simulator can only "
                        + "restart a server it started");
            }
            EnrollStorm.Settings settings = inProcess == null ? stormSettings(arguments, false)
                    : new EnrollStorm.Settings(inProcess.doors().https(), inProcess.anchors(), inProcess.adminToken(),
                            counts.devices(), counts.concurrency(), counts.group(), counts.timeout());
            boolean terminal = out == System.out && ProgressLine.isTerminal();
            RunReport report;
            if (storm) {
                FleetStorm fleetStorm = new FleetStorm(fleetSettings(arguments, settings, inProcess), out, terminal);
                if (arguments.value("--restart-server-after").isPresent()) {
                    fleetStorm.restartDuring(inProcess, arguments.durationValue("--restart-server-after", null,
                            Duration.ofHours(1)));
                }
                if (factoryIdentities(arguments)) {
                    fleetStorm.firstBootWithFactoryIdentities();
                }
                if (inProcess != null && inProcess.mosquitto().isPresent()) {
                    fleetStorm.throughExternalBroker();
                    if (arguments.value("--restart-broker-after").isPresent()) {
                        fleetStorm.restartDuring(inProcess.mosquitto().get(), arguments.durationValue(
                                "--restart-broker-after", null, Duration.ofHours(1)));
                    }
                }
                report = fleetStorm.run();
            } else {
                report = new EnrollStorm(settings, out, terminal).run();
            }
            out.print(TextSummary.format(report));
            if (reportDir.isPresent()) {
                try {
                    out.println("Report written to " + ReportFiles.write(reportDir.get(), report));
                } catch (IOException e) {
                    err.println("fleetkey-simulator: cannot write the report into " + reportDir.get() + ": " + e);
                }
            }
            int status = threshold.exitStatus(report);
            if (status != OK) {
                out.printf(java.util.Locale.ROOT, "%d of %d %s did not succeed; --max-failures allows %s%n",
                        report.totalUnsuccessful(), report.totalOperations(), storm ? "operations" : "enrollments",
                        threshold);
            }
            return status;
        } catch (UsageException e) {
            err.println("fleetkey-simulator: " + e.getMessage());
            err.println("Run 'fleetkey-simulator --help' for the options.");
            return USAGE;
        } catch (FleetApiClient.FleetApiException e) {
            err.println("fleetkey-simulator: " + e.getMessage());
            return SETUP_FAILED;
        } catch (IOException e) {
            err.println("fleetkey-simulator: set-up failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("fleetkey-simulator: interrupted");
            return FAILURES;
        } finally {
            if (inProcess != null) {
                try {
                    inProcess.close();
                } catch (Exception e) {
                    err.println("fleetkey-simulator: the in-process server did not stop cleanly: " + e);
                }
            }
        }
    }

    private int demo(List<String> rest) {
        try {
            Arguments arguments = Arguments.parse(rest, Set.of("--server-jar", "--report-dir"), Set.of());
            Optional<Path> jar = InProcessServer.findJar(arguments.value("--server-jar"));
            if (jar.isEmpty()) {
                throw new UsageException("the demo starts the server from its jar and cannot find it: build it with "
                        + "'mvn -pl server -am package -DskipTests' in the repository, or pass --server-jar FILE");
            }
            RunReport report = new Demo(out).run(jar.get(), Path.of(arguments.value("--report-dir")
                    .orElse("fleetkey-demo-report")));
            return FailureThreshold.NONE.exitStatus(report);
        } catch (UsageException e) {
            err.println("fleetkey-simulator: " + e.getMessage());
            return USAGE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("fleetkey-simulator: interrupted");
            return FAILURES;
        } catch (Exception e) {
            err.println("fleetkey-simulator: the demo failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return SETUP_FAILED;
        }
    }

    private static FailureThreshold failureThreshold(Arguments arguments) throws UsageException {
        try {
            return arguments.value("--max-failures").map(FailureThreshold::parse).orElse(FailureThreshold.NONE);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--max-failures " + e.getMessage());
        }
    }

    /** @param countsOnly check devices, concurrency, group and timeout only (the server is in-process) */
    private EnrollStorm.Settings stormSettings(Arguments arguments, boolean countsOnly) throws UsageException, IOException {
        URI server = countsOnly ? URI.create("https://localhost") : loopbackServer(arguments.required("--server"));
        List<X509Certificate> anchors = List.of();
        if (!countsOnly) {
            Path caFile = Path.of(arguments.required("--ca-cert"));
            try {
                anchors = AgentTls.readTrustAnchors(caFile);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--ca-cert " + caFile + ": " + e.getMessage());
            }
        }
        String adminToken = countsOnly ? "in-process" : arguments.value("--admin-token").orElse(env.get(ADMIN_TOKEN_ENV));
        if (adminToken == null || adminToken.isBlank()) {
            throw new UsageException("no fleet API token: pass --admin-token or set " + ADMIN_TOKEN_ENV);
        }
        int devices = arguments.intValue("--devices", -1, 1, MAX_DEVICES);
        if (devices < 0) {
            throw new UsageException("option --devices is required");
        }
        int concurrency = arguments.intValue("--concurrency", -1, 1, MAX_CONCURRENCY);
        if (concurrency < 0) {
            throw new UsageException("option --concurrency is required");
        }
        String group = arguments.value("--group").orElse("simulator");
        String longestId = EnrollStorm.deviceId(group, Long.toString(Long.MAX_VALUE, 36), MAX_DEVICES);
        if (!DeviceIds.isValid(longestId)) {
            throw new UsageException("--group '" + group + "' cannot prefix device ids: they would break the rule "
                    + DeviceIds.rule() + "; use a shorter group name of those characters");
        }
        Duration timeout = arguments.durationValue("--timeout", DEFAULT_TIMEOUT, MAX_TIMEOUT);
        return new EnrollStorm.Settings(server, anchors, adminToken.trim(), devices, concurrency, group, timeout);
    }

    /**
     * @param common    null to check the options only
     * @param inProcess the server the simulator started, whose doors replace --coap and --mqtt; or null
     */
    private static FleetStorm.Settings fleetSettings(Arguments arguments, EnrollStorm.Settings common,
                                                     InProcessServer inProcess) throws UsageException {
        DoorMix mix;
        try {
            mix = DoorMix.parse(arguments.value("--doors").orElse("https"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--doors " + e.getMessage());
        }
        Optional<String> coapText = arguments.value("--coap");
        Optional<String> mqttText = arguments.value("--mqtt");
        URI coap = coapText.isPresent() ? loopbackDoor("--coap", coapText.get(), "coaps") : null;
        URI mqtt = mqttText.isPresent() ? loopbackDoor("--mqtt", mqttText.get(), "ssl", "mqtts") : null;
        if (inProcess != null) {
            coap = inProcess.doors().coaps();
            mqtt = inProcess.doors().mqtt();
        }
        double ramp = 0;
        if (arguments.value("--ramp").isPresent()) {
            ramp = arguments.intValue("--ramp", 0, 1, 100_000);
        }
        double share = fleetShare(arguments, "--revoke");
        double churn = fleetShare(arguments, "--churn");
        factoryIdentities(arguments); // checked with the other options, before a server starts
        FleetStorm.CoapFault coapFault = null;
        if (arguments.value("--coap-loss").isPresent() || arguments.value("--coap-delay").isPresent()) {
            String lossText = arguments.value("--coap-loss").orElse("0%").trim();
            double loss = share("--coap-loss", lossText);
            if (!(loss >= 0 && loss <= 0.5)) {
                throw new UsageException("--coap-loss must be 0% to 50%, not " + lossText);
            }
            Duration delay = arguments.value("--coap-delay").isPresent()
                    ? arguments.durationValue("--coap-delay", Duration.ZERO, Duration.ofSeconds(10)) : Duration.ZERO;
            if (!mix.weights().containsKey(io.fleetkey.simulator.report.Door.COAP)) {
                throw new UsageException("--coap-loss and --coap-delay act on CoAP devices; add coap to --doors");
            }
            coapFault = new FleetStorm.CoapFault(loss, delay);
        }
        if (common == null) {
            return null;
        }
        try {
            return new FleetStorm.Settings(new FleetStorm.Doors(common.server(), coap, mqtt,
                    inProcess == null ? null : inProcess.doors().mqttCertified()), common.anchors(),
                    common.adminToken(), common.devices(), common.concurrency(), mix, ramp, arguments.flag("--renew"),
                    churn, share, common.group(), common.timeout(),
                    baseline(arguments), coapFault);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Whether {@code --first-boot idevid} was given; {@code token} (the default) is the other choice. */
    private static boolean factoryIdentities(Arguments arguments) throws UsageException {
        String proof = arguments.value("--first-boot").orElse("token").trim();
        if (!proof.equals("token") && !proof.equals("idevid")) {
            throw new UsageException("--first-boot is token or idevid, not '" + proof + "'");
        }
        return proof.equals("idevid");
    }

    /** A share of the fleet, more than 0% and at most 100%, for an optional option; 0 when it is absent. */
    private static double fleetShare(Arguments arguments, String option) throws UsageException {
        if (arguments.value(option).isEmpty()) {
            return 0;
        }
        String text = arguments.value(option).get().trim();
        double value = share(option, text);
        if (!(value > 0 && value <= 1)) {
            throw new UsageException(option + " must be more than 0% and at most 100%, not " + text);
        }
        return value;
    }

    /** A share written as {@code 10%} or {@code 0.1}. */
    private static double share(String option, String text) throws UsageException {
        try {
            return text.endsWith("%") ? Double.parseDouble(text.substring(0, text.length() - 1)) / 100
                    : Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new UsageException(option + " '" + text + "' is not a share; use e.g. 10% or 0.1");
        }
    }

    /** {@code --baseline}: a duration up to a minute, or 0 / 0s for none. */
    private static Duration baseline(Arguments arguments) throws UsageException {
        String text = arguments.value("--baseline").orElse("3s").trim();
        if (text.equals("0") || text.equals("0s")) {
            return Duration.ZERO;
        }
        return arguments.durationValue("--baseline", Duration.ofSeconds(3), Duration.ofMinutes(1));
    }

    /** A CoAP or MQTT door on this machine, like --server. */
    private static URI loopbackDoor(String option, String text, String... schemes) throws UsageException {
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + " '" + text + "' is not a URI; use e.g. " + schemes[0] + "://localhost");
        }
        if (uri.getScheme() == null || Arrays.stream(schemes).noneMatch(uri.getScheme()::equalsIgnoreCase)
                || uri.getHost() == null) {
            throw new UsageException(option + " must be a " + String.join(" or ", schemes) + " URI such as "
                    + schemes[0] + "://localhost:" + ("--coap".equals(option) ? 5684 : 8883));
        }
        checkLoopback(option, uri.getHost());
        return uri;
    }

    /** Storms are rehearsals on one machine; refusing other hosts keeps the tool from loading a real server. */
    static URI loopbackServer(String text) throws UsageException {
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--server '" + text + "' is not a URL; use e.g. https://localhost:8443");
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new UsageException("--server must be an https URL such as https://localhost:8443");
        }
        checkLoopback("--server", uri.getHost());
        return uri;
    }

    private static void checkLoopback(String option, String host) throws UsageException {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    throw new UsageException(option + " " + host + " is not this machine; the simulator "
                            + "runs against a server on localhost, 127.0.0.1 or ::1 only");
                }
            }
        } catch (UnknownHostException e) {
            throw new UsageException(option + " host '" + host + "' cannot be resolved");
        }
    }
}
