package io.fleetkey.server.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The fleet managers' command line, {@code fleetkey}: groups, devices, tokens and the audit log
 * through the fleet API over HTTPS. It runs in the server's jar without starting the server (no
 * Micronaut class is loaded on this path). The API token comes from {@code FLEETKEY_API_TOKEN}
 * or a file, never from an option (it would show in the process list); the server is trusted
 * only through a CA chain file, never blindly. Expected failures end with one message that says
 * what to do and an exit status; stack traces only with {@code --debug}.
 */
@Command(name = "fleetkey", versionProvider = FleetkeyCli.Version.class,
        description = "Manage a Fleetkey fleet through the server's fleet API (/api/v1).",
        subcommands = {GroupsCommand.class, DevicesCommand.class, TokensCommand.class, AuditCommand.class},
        footerHeading = "%nEnvironment:%n",
        footer = {
            "  FLEETKEY_API_TOKEN    the fleet API token (or --token-file FILE)",
            "  FLEETKEY_SERVER_URL   the server (or --server URL)",
            "  FLEETKEY_DATA_DIR     the server's data folder; its ca/chain.pem is the",
            "                        default --cacert",
            "%nExit status:",
            "  0 done; 1 the server refused (4xx) or failed; 2 usage or input error;",
            "  3 cannot connect, or TLS failed; 4 audit verify found a break;",
            "  70 internal error (please report it)",
            "%nSee docs/cli.md for examples."})
public final class FleetkeyCli {
    static final int OK = 0;
    static final int REFUSED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int AUDIT_BROKEN = 4;
    static final int BUG = 70;

    static final String TOKEN_ENV = "FLEETKEY_API_TOKEN";
    static final String SERVER_ENV = "FLEETKEY_SERVER_URL";
    static final String DATA_DIR_ENV = "FLEETKEY_DATA_DIR";
    static final String DEFAULT_SERVER = "https://localhost:8443";

    /** Options that run the command line instead of starting the server: its own, with or without "=value". */
    private static final Set<String> CLI_ONLY_OPTIONS = Set.of("--help", "-h", "--version", "-V", "--server",
            "--cacert", "--token-file", "--json", "--debug");

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "show this help")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "show the version")
    boolean version;

    @Option(names = "--server", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "the server's HTTPS address (default: $" + SERVER_ENV + " or " + DEFAULT_SERVER + ")")
    String server;

    @Option(names = "--cacert", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "the server's CA chain (PEM) to trust (default: $" + DATA_DIR_ENV
                    + "/ca/chain.pem, or ./data/ca/chain.pem when it exists)")
    Path cacert;

    @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "read the API token from FILE instead of $" + TOKEN_ENV)
    Path tokenFile;

    @Option(names = "--json", scope = ScopeType.INHERIT,
            description = "print the server's JSON answer instead of a table (for scripts)")
    boolean json;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "print requests and, on failure, the stack trace")
    boolean debug;

    final PrintStream out;
    final PrintStream err;
    private final Map<String, String> env;
    private ApiClient api;

    FleetkeyCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    /**
     * Whether these arguments of the server's jar ask for the command line: any argument that is
     * not an option (a command, an option's value, or a mistyped command that deserves a usage
     * message), or one of the command line's own options ({@code --help}, {@code --server}, ...).
     * No arguments, or other options only (the server's {@code --name=value} settings), start the
     * server as before.
     */
    public static boolean wanted(String[] args) {
        for (String arg : args) {
            if (!arg.startsWith("-") || CLI_ONLY_OPTIONS.contains(arg.split("=", 2)[0])) {
                return true;
            }
        }
        return false;
    }

    /** Runs one command with the process's streams and environment, and exits with its status. */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.exit(run(args, out, System.err, System.getenv()));
    }

    /** Runs one command and returns its exit status. */
    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length > 0 && args[0].equals("help")) { // "help devices import" is "devices import --help"
            String[] asked = java.util.Arrays.copyOf(java.util.Arrays.copyOfRange(args, 1, args.length), args.length);
            asked[args.length - 1] = "--help";
            args = asked;
        }
        FleetkeyCli root = new FleetkeyCli(out, err, env);
        CommandLine cli = new CommandLine(root);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExitCodeExceptionMapper(e -> e instanceof CliFailure f ? f.exitCode() : BUG);
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println("fleetkey: " + e.getMessage());
            CommandLine failed = e.getCommandLine();
            err.println("Run '" + failed.getCommandSpec().qualifiedName() + " --help' for the options.");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, failed, parsed) -> {
            if (e instanceof CliFailure f) {
                err.println("fleetkey: " + f.getMessage());
                if (root.debug && f.getCause() != null) {
                    f.getCause().printStackTrace(err);
                }
                return f.exitCode();
            }
            err.println("fleetkey: internal error, please report it: " + e
                    + (root.debug ? "" : " (run with --debug for the details)"));
            if (root.debug) {
                e.printStackTrace(err);
            }
            return BUG;
        });
        return cli.execute(args);
    }

    /** The API client for the resolved server, trust anchor and token; built on first use. */
    ApiClient api() {
        if (api == null) {
            api = new ApiClient(serverUri(), trustAnchorFile(), apiToken(), debug ? err : null);
        }
        return api;
    }

    private URI serverUri() {
        String value = server != null ? server : env.getOrDefault(SERVER_ENV, DEFAULT_SERVER);
        String source = server != null ? "--server" : env.containsKey(SERVER_ENV) ? SERVER_ENV : "the default";
        URI uri;
        try {
            uri = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
        } catch (IllegalArgumentException e) {
            throw new CliFailure(USAGE, source + " '" + value + "' is not a URL; e.g. " + DEFAULT_SERVER);
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new CliFailure(USAGE, source + " '" + value + "' must be an https:// URL with a host, e.g. "
                    + DEFAULT_SERVER + " (the API token never travels unencrypted)");
        }
        return uri;
    }

    /** --cacert, else the data folder's chain: refuses to run without one (the server is never trusted blindly). */
    private Path trustAnchorFile() {
        if (cacert != null) {
            if (!Files.isReadable(cacert)) {
                throw new CliFailure(USAGE, "--cacert " + cacert + ": no such readable file; pass the server's CA "
                        + "chain (the server writes it to its data/ca/chain.pem)");
            }
            return cacert;
        }
        String dataDir = env.get(DATA_DIR_ENV);
        Path chain = (dataDir != null ? Path.of(dataDir) : Path.of("data")).resolve("ca").resolve("chain.pem");
        if (!Files.isReadable(chain)) {
            throw new CliFailure(USAGE, "no CA chain to trust the server with: " + chain + " does not exist"
                    + (dataDir != null ? " (from " + DATA_DIR_ENV + ")" : "")
                    + "; pass --cacert FILE with the server's data/ca/chain.pem");
        }
        return chain;
    }

    private String apiToken() {
        if (tokenFile != null) {
            String token;
            try {
                token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new CliFailure(USAGE, "--token-file " + tokenFile + ": cannot read it (" + e + ")", e);
            }
            if (token.isEmpty()) {
                throw new CliFailure(USAGE, "--token-file " + tokenFile + " is empty; put the fleet API token in it");
            }
            warnIfOthersCanRead(tokenFile);
            return token;
        }
        String token = env.get(TOKEN_ENV);
        if (token == null || token.isBlank()) {
            throw new CliFailure(USAGE, "no API token: set " + TOKEN_ENV + " or pass --token-file FILE "
                    + "(the server prints the first admin token at its first start)");
        }
        return token.strip();
    }

    private void warnIfOthersCanRead(Path file) {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.OTHERS_READ) || mode.contains(PosixFilePermission.GROUP_READ)) {
                err.println("fleetkey: warning: " + file + " can be read by other users; chmod 600 it");
            }
        } catch (IOException e) {
            // The token was read; its mode is only advice.
        }
    }

    /** The jar's implementation version, when the build wrote one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = FleetkeyCli.class.getPackage().getImplementationVersion();
            return new String[] {"fleetkey " + (version == null ? "(development build)" : version)};
        }
    }
}
