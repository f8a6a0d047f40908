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
import io.fleetkey.agent.Arguments;
import io.fleetkey.agent.Arguments.UsageException;
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

            Scenarios:
              enroll-storm   N devices enroll at once with one-time tokens (EST simpleenroll)

            Tools:
              factory        a maker CA and factory identities (IDevIDs) for a batch of devices:
                             init, issue, revoke, crl, register; 'factory --help' shows them

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
        if (Set.of("help", "--help", "-h").contains(args[0]) || rest.contains("--help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        try {
            if (!"enroll-storm".equals(args[0])) {
                throw new UsageException("unknown scenario '" + args[0] + "'; use enroll-storm or factory");
            }
            Arguments arguments = Arguments.parse(rest, Set.of("--server", "--ca-cert", "--admin-token", "--devices",
                    "--concurrency", "--group", "--timeout", "--report-dir", "--max-failures"), Set.of());
            FailureThreshold threshold = failureThreshold(arguments);
            Optional<Path> reportDir = arguments.value("--report-dir").map(Path::of);
            if (reportDir.isPresent() && Files.exists(reportDir.get()) && !Files.isDirectory(reportDir.get())) {
                throw new UsageException("--report-dir " + reportDir.get() + " is a file, not a folder");
            }
            EnrollStorm.Settings settings = stormSettings(arguments);
            RunReport report = new EnrollStorm(settings, out, out == System.out && ProgressLine.isTerminal()).run();
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
                out.printf(java.util.Locale.ROOT, "%d of %d enrollments did not succeed; --max-failures allows %s%n",
                        report.totalUnsuccessful(), report.totalOperations(), threshold);
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
        }
    }

    private static FailureThreshold failureThreshold(Arguments arguments) throws UsageException {
        try {
            return arguments.value("--max-failures").map(FailureThreshold::parse).orElse(FailureThreshold.NONE);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--max-failures " + e.getMessage());
        }
    }

    private EnrollStorm.Settings stormSettings(Arguments arguments) throws UsageException, IOException {
        URI server = loopbackServer(arguments.required("--server"));
        Path caFile = Path.of(arguments.required("--ca-cert"));
        List<X509Certificate> anchors;
        try {
            anchors = AgentTls.readTrustAnchors(caFile);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--ca-cert " + caFile + ": " + e.getMessage());
        }
        String adminToken = arguments.value("--admin-token").orElse(env.get(ADMIN_TOKEN_ENV));
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
        try {
            for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
                if (!address.isLoopbackAddress()) {
                    throw new UsageException("--server " + uri.getHost() + " is not this machine; the simulator "
                            + "runs against a server on localhost, 127.0.0.1 or ::1 only");
                }
            }
        } catch (UnknownHostException e) {
            throw new UsageException("--server host '" + uri.getHost() + "' cannot be resolved");
        }
        return uri;
    }
}
