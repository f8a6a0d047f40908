package io.fleetkey.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet managers' command line against a real server over HTTPS: each command run in-process
 * through picocli with captured output, its effect checked through the API and by devices that
 * enroll with the tokens it printed or wrote; the ways it fails, with their messages and exit
 * statuses; and the server's jar started as {@code fleetkey} in a process of its own.
 */
class FleetkeyCliIT {
    private static final String GROUP = "meters";
    private static TestServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup(GROUP, "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    record Run(int exitCode, String out, String err) {
    }

    /** Runs fleetkey as an admin, trusting the server's CA chain file. */
    private Run fleetkey(String... args) {
        return fleetkeyTrusting(server.caChainPem(), args);
    }

    private Run fleetkeyTrusting(Path cacert, String... args) {
        List<String> all = new ArrayList<>(List.of("--server", "https://localhost:" + server.port(),
                "--cacert", cacert.toString()));
        all.addAll(List.of(args));
        return fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN), all.toArray(String[]::new));
    }

    private static Run fleetkeyWith(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = FleetkeyCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String tokenIn(String output) {
        Matcher m = Pattern.compile("enrollment token: (\\S+)").matcher(output);
        assertThat(m.find()).as(output).isTrue();
        return m.group(1);
    }

    private static int enroll(String deviceId, String token) {
        return server.est(server.client(), "simpleenroll", TestPki.csr(deviceId, TestPki.p256()), deviceId, token)
                .statusCode();
    }

    private static JsonNode device(String deviceId) {
        return Json.parse(server.api("GET", "/api/v1/devices/" + deviceId, null).body());
    }

    // ---- commands ----------------------------------------------------------------------------

    @Test
    void register_prints_a_token_the_device_enrolls_with() {
        Run r = fleetkey("devices", "register", "cli-reg-1", "--group", GROUP);

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("registered cli-reg-1 in group meters").contains("shown only this once");
        assertThat(enroll("cli-reg-1", tokenIn(r.out()))).isEqualTo(200);
        assertThat(device("cli-reg-1").get("status").asText()).isEqualTo("ENROLLED");
    }

    @Test
    void import_registers_a_csv_in_chunks_and_writes_the_tokens_to_a_0600_file_only() throws IOException {
        Path csv = work.resolve("devices.csv");
        Files.writeString(csv, "deviceId,serial\n" + IntStream.rangeClosed(1, 25)
                .mapToObj(i -> String.format("cli-imp-%03d,SN%d", i, i)).collect(Collectors.joining("\n")) + "\n");
        Path tokens = work.resolve("tokens.csv");

        Run r = fleetkey("--debug", "devices", "import", csv.toString(), "--group", GROUP, "--tokens-out",
                tokens.toString(), "--chunk-size", "10");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("registered 25 device(s) in 1 group(s): meters").contains(tokens.toString());
        assertThat(r.err().lines().filter(l -> l.startsWith("> POST")).count()).as(r.err()).isEqualTo(3);
        assertThat(Files.getPosixFilePermissions(tokens)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        List<String> lines = Files.readAllLines(tokens);
        assertThat(lines).hasSize(26);
        assertThat(lines.get(0)).isEqualTo("deviceId,group,enrollmentToken,tokenExpiresAt");
        String[] first = lines.get(1).split(",");
        assertThat(first[0]).isEqualTo("cli-imp-001");
        assertThat(r.out()).doesNotContain(first[2]);
        assertThat(enroll("cli-imp-001", first[2])).isEqualTo(200);
        assertThat(Json.field(server.api("GET", "/api/v1/devices?idPrefix=cli-imp-", null).body(), "total"))
                .isEqualTo("25");
    }

    @Test
    void import_with_a_bad_row_names_the_line_and_registers_nothing() throws IOException {
        Path csv = work.resolve("bad.csv");
        Files.writeString(csv, "group,deviceId\nmeters,cli-bad-1\nmeters,cli-bad-2\nmeters,not ok!\n,cli-bad-1\n");
        Path tokens = work.resolve("tokens.csv");

        Run r = fleetkey("devices", "import", csv.toString(), "--tokens-out", tokens.toString());

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(r.err()).contains("3 problem(s); nothing was registered")
                .contains("line 4: 'not ok!' is not a valid device id")
                .contains("line 5: 'cli-bad-1' is already on line 2")
                .contains("line 5: no group; fill the group column or pass --group");
        assertThat(tokens).doesNotExist();
        assertThat(Json.field(server.api("GET", "/api/v1/devices?idPrefix=cli-bad-", null).body(), "total"))
                .isEqualTo("0");
    }

    @Test
    void import_refused_by_the_server_says_why_and_registers_nothing() throws IOException {
        server.registerDevice("cli-dup-2", GROUP);
        Path csv = work.resolve("dup.csv");
        Files.writeString(csv, "deviceId\ncli-dup-1\ncli-dup-2\n");

        Run r = fleetkey("devices", "import", csv.toString(), "--group", GROUP, "--tokens-out",
                work.resolve("t.csv").toString());

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(r.err()).contains("lines 2-3").contains("none of them registered").contains("cli-dup-2");
        assertThat(server.api("GET", "/api/v1/devices/cli-dup-1", null).statusCode()).isEqualTo(404);
    }

    @Test
    void a_chunk_refused_after_others_keeps_their_tokens_in_the_file() throws IOException {
        server.registerDevice("cli-part-3", GROUP);
        Path csv = work.resolve("part.csv");
        Files.writeString(csv, "deviceId\ncli-part-1\ncli-part-2\ncli-part-3\ncli-part-4\n");
        Path tokens = work.resolve("part-tokens.csv");

        Run r = fleetkey("devices", "import", csv.toString(), "--group", GROUP, "--tokens-out", tokens.toString(),
                "--chunk-size", "2");

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(r.err()).contains("lines 4-5 (2 devices of group meters) were refused, none of them registered")
                .contains("the 2 devices before them were registered, their tokens are in " + tokens);
        List<String> lines = Files.readAllLines(tokens);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2)).startsWith("cli-part-2,meters,");
        assertThat(enroll("cli-part-2", lines.get(2).split(",")[2])).isEqualTo(200);
        assertThat(server.api("GET", "/api/v1/devices/cli-part-4", null).statusCode()).isEqualTo(404);
    }

    @Test
    void import_wants_a_place_for_the_tokens_and_an_existing_group() throws IOException {
        Path csv = work.resolve("d.csv");
        Files.writeString(csv, "deviceId\ncli-nowhere-1\n");

        Run noPlace = fleetkey("devices", "import", csv.toString(), "--group", GROUP);
        Run noGroup = fleetkey("devices", "import", csv.toString(), "--group", "no-such-group", "--show-tokens");

        assertThat(noPlace.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(noPlace.err()).contains("--tokens-out FILE").contains("--show-tokens");
        assertThat(noGroup.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(noGroup.err()).contains("no-such-group").contains("HTTP 404");
        assertThat(server.api("GET", "/api/v1/devices/cli-nowhere-1", null).statusCode()).isEqualTo(404);
    }

    @Test
    void list_shows_an_aligned_table_or_the_servers_json() {
        server.registerDevice("cli-list-1", GROUP);
        server.registerDevice("cli-list-22", GROUP);

        Run table = fleetkey("devices", "list", "--group", GROUP, "--status", "REGISTERED", "--id-prefix",
                "cli-list-");
        Run json = fleetkey("devices", "list", "--id-prefix", "cli-list-", "--json");
        Run paged = fleetkey("devices", "list", "--id-prefix", "cli-list-", "--size", "1");
        Run all = fleetkey("devices", "list", "--id-prefix", "cli-list-", "--all", "--json");

        assertThat(table.exitCode()).as(table.err()).isZero();
        List<String> lines = table.out().lines().toList();
        assertThat(lines.get(0)).startsWith("DEVICE       GROUP   STATUS      ATTESTATION");
        assertThat(lines.get(1)).startsWith("cli-list-1   meters  REGISTERED  -");
        assertThat(lines.get(2)).startsWith("cli-list-22  meters  REGISTERED  -");
        assertThat(lines.get(3)).isEqualTo("2 device(s)");
        assertThat(json.exitCode()).isZero();
        JsonNode page = Json.parse(json.out());
        assertThat(page.get("total").asInt()).isEqualTo(2);
        assertThat(page.get("items").findValuesAsText("deviceId")).containsExactly("cli-list-1", "cli-list-22");
        assertThat(paged.out()).contains("devices 1-1 of 2; next: --page 1, or --all");
        assertThat(Json.parse(all.out()).get("items")).hasSize(2);
    }

    @Test
    void show_prints_the_device_with_its_certificates_and_events() {
        String token = server.registerDevice("cli-show-1", GROUP);
        assertThat(enroll("cli-show-1", token)).isEqualTo(200);
        String serial = device("cli-show-1").get("certificates").get(0).get("serial").asText();

        Run r = fleetkey("devices", "show", "cli-show-1");
        Run missing = fleetkey("devices", "show", "cli-nobody");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("device:").contains("cli-show-1").contains("status:").contains("ENROLLED")
                .contains("certificates (newest first):").contains(serial).contains("recent events:")
                .contains("certificate.issued");
        assertThat(missing.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(missing.err()).contains("'cli-nobody' is not registered").contains("HTTP 404 NOT_FOUND");
    }

    @Test
    void groups_are_created_listed_and_shown() throws IOException {
        TestPki.Ca maker = TestPki.ca("Cli Maker CA");
        Path makerPem = work.resolve("maker.pem");
        Files.writeString(makerPem, Certificates.toPem(List.of(maker.certificate())));

        Run created = fleetkey("groups", "create", "cli-kiosks", "--profile", "device", "--require-approval",
                "--maker-ca", makerPem.toString());
        Run list = fleetkey("groups", "list");
        Run show = fleetkey("groups", "show", "cli-kiosks");
        Run again = fleetkey("groups", "create", "cli-kiosks", "--profile", "device");

        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("created group cli-kiosks");
        assertThat(list.out().lines().filter(l -> l.startsWith("cli-kiosks"))).singleElement()
                .satisfies(l -> assertThat(l).contains("device").contains("required").contains("1"));
        assertThat(show.out()).contains("approval required:").contains("true").contains("maker CAs:")
                .contains("CN=Cli Maker CA").contains("attestation:");
        assertThat(again.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(again.err()).contains("HTTP 409");
    }

    @Test
    void approve_lets_a_waiting_device_enroll() {
        assertThat(fleetkey("groups", "create", "cli-vaults", "--profile", "device", "--require-approval")
                .exitCode()).isZero();
        String token = tokenIn(fleetkey("devices", "register", "cli-vault-1", "--group", "cli-vaults").out());
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csr("cli-vault-1", keys);
        assertThat(server.est(server.client(), "simpleenroll", csr, "cli-vault-1", token).statusCode()).isEqualTo(202);
        assertThat(fleetkey("devices", "list", "--status", "PENDING_APPROVAL").out()).contains("cli-vault-1");

        Run r = fleetkey("devices", "approve", "cli-vault-1");
        Run again = fleetkey("devices", "approve", "cli-list-none");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("approved the waiting key of cli-vault-1");
        assertThat(server.est(server.client(), "simpleenroll", csr, "cli-vault-1", token).statusCode()).isEqualTo(200);
        assertThat(again.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
    }

    @Test
    void revoke_revokes_the_device_and_its_certificates_once() {
        String token = server.registerDevice("cli-rev-1", GROUP);
        assertThat(enroll("cli-rev-1", token)).isEqualTo(200);
        String serial = device("cli-rev-1").get("certificates").get(0).get("serial").asText();

        Run r = fleetkey("devices", "revoke", "cli-rev-1", "--reason", "keyCompromise", "--note", "ticket 17");
        Run again = fleetkey("devices", "revoke", "cli-rev-1", "--reason", "keyCompromise");
        Run badReason = fleetkey("devices", "revoke", "cli-reg-x", "--reason", "certificateHold");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("revoked cli-rev-1 (keyCompromise)").contains("1 certificate(s) revoked: " + serial);
        JsonNode revoked = device("cli-rev-1");
        assertThat(revoked.get("status").asText()).isEqualTo("REVOKED");
        assertThat(revoked.get("events").get(0).get("detail").asText()).contains("note: ticket 17");
        assertThat(again.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(again.err()).contains("already revoked").contains("HTTP 409 CONFLICT");
        assertThat(badReason.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(badReason.err()).contains("HTTP 4");
    }

    @Test
    void a_new_token_replaces_the_old_one() {
        String old = server.registerDevice("cli-tok-1", GROUP);

        Run r = fleetkey("tokens", "new", "cli-tok-1");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("the previous one no longer works");
        assertThat(enroll("cli-tok-1", old)).isNotEqualTo(200);
        assertThat(enroll("cli-tok-1", tokenIn(r.out()))).isEqualTo(200);
    }

    // ---- failures ----------------------------------------------------------------------------

    @Test
    void a_refused_token_says_which_variable_to_set() throws IOException {
        Run r = fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, "not-the-token-0123456789"), "--server",
                "https://localhost:" + server.port(), "--cacert", server.caChainPem().toString(), "devices", "list");
        Run none = fleetkeyWith(Map.of(), "--server", "https://localhost:" + server.port(), "--cacert",
                server.caChainPem().toString(), "devices", "list");
        Path tokenFile = work.resolve("token");
        Files.writeString(tokenFile, TestServer.ADMIN_TOKEN + "\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        Run fromFile = fleetkeyWith(Map.of(), "--server", "https://localhost:" + server.port(), "--cacert",
                server.caChainPem().toString(), "--token-file", tokenFile.toString(), "groups", "list");

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(r.err()).contains("the API token was refused").contains("set FLEETKEY_API_TOKEN");
        assertThat(r.err()).doesNotContain("not-the-token").doesNotContain("\tat ");
        assertThat(none.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(none.err()).contains("no API token: set FLEETKEY_API_TOKEN or pass --token-file FILE");
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        assertThat(fromFile.err()).isEmpty();
    }

    @Test
    void a_server_that_is_down_is_reported_with_its_address() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }

        Run r = fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN, FleetkeyCli.SERVER_ENV,
                "https://localhost:" + closedPort), "--cacert", server.caChainPem().toString(), "devices", "list");

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.UNREACHABLE);
        assertThat(r.err()).contains("cannot reach https://localhost:" + closedPort + ": connection refused; "
                + "is the server running? set --server").doesNotContain("\tat ");
    }

    @Test
    void without_a_trust_anchor_it_refuses_to_run_and_a_wrong_one_fails_tls() throws IOException {
        Path emptyDataDir = Files.createDirectory(work.resolve("data"));
        Run none = fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN, FleetkeyCli.DATA_DIR_ENV,
                emptyDataDir.toString()), "--server", "https://localhost:" + server.port(), "devices", "list");
        Run missing = fleetkeyTrusting(work.resolve("nothing.pem"), "devices", "list");
        Path other = work.resolve("other-ca.pem");
        Files.writeString(other, Certificates.toPem(List.of(TestPki.ca("Some Other CA").certificate())));
        Run wrong = fleetkeyTrusting(other, "devices", "list");
        Run fromDataDir = fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN, FleetkeyCli.DATA_DIR_ENV,
                server.dataDir().toString()), "--server", "https://localhost:" + server.port(), "groups", "list");

        assertThat(none.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(none.err()).contains("no CA chain to trust the server with")
                .contains(emptyDataDir.resolve("ca").resolve("chain.pem").toString()).contains("--cacert");
        assertThat(missing.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(missing.err()).contains("nothing.pem");
        assertThat(wrong.exitCode()).isEqualTo(FleetkeyCli.UNREACHABLE);
        assertThat(wrong.err()).contains("TLS with https://localhost:" + server.port() + " failed")
                .contains("--cacert " + other).doesNotContain("\tat ");
        assertThat(fromDataDir.exitCode()).as(fromDataDir.err()).isZero();
        assertThat(fromDataDir.out()).contains(GROUP);
    }

    @Test
    void usage_mistakes_exit_2_and_plain_http_is_refused() {
        Run unknown = fleetkey("devices", "frobnicate");
        Run missingGroup = fleetkey("devices", "register", "cli-x");
        Run plain = fleetkeyWith(Map.of(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN), "--server",
                "http://localhost:" + server.port(), "--cacert", server.caChainPem().toString(), "devices", "list");

        assertThat(unknown.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(missingGroup.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(missingGroup.err()).contains("--group");
        assertThat(plain.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(plain.err()).contains("must be an https:// URL");
    }

    // ---- the jar ---------------------------------------------------------------------------

    /** The server's jar is the command line when its first argument is a command, and starts no Micronaut. */
    @Test
    void the_server_jar_runs_devices_list_json_in_its_own_process() throws Exception {
        server.registerDevice("cli-jar-1", GROUP);
        Path classLog = work.resolve("classes.log");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load:file=" + classLog, "-jar", Path.of("target", "fleetkey-server.jar").toAbsolutePath()
                        .toString(), "devices", "list", "--json", "--id-prefix", "cli-jar-", "--cacert",
                server.caChainPem().toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(work.resolve("stderr").toFile());
        Map<String, String> env = builder.environment();
        env.put(FleetkeyCli.TOKEN_ENV, TestServer.ADMIN_TOKEN);
        env.put(FleetkeyCli.SERVER_ENV, "https://localhost:" + server.port());
        long started = System.nanoTime();
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertThat(p.exitValue()).as(Files.readString(work.resolve("stderr"))).isZero();
        JsonNode page = Json.parse(out);
        assertThat(page.get("items").findValuesAsText("deviceId")).containsExactly("cli-jar-1");
        assertThat(Files.readAllLines(classLog)).as("classes loaded by the command line")
                .noneMatch(l -> l.contains("io.micronaut.")).anyMatch(l -> l.contains("picocli.CommandLine "));
        System.out.println("fleetkey devices list --json in its own JVM: " + millis + " ms");
    }

    // ---- commands whose server side comes with other changes ---------------------------------

    /**
     * revoke-by and audit end to end, against {@code POST /api/v1/revocations},
     * {@code GET /api/v1/audit} and {@code POST /api/v1/audit/verify}.
     */
    @Test
    void revoke_by_and_audit_against_the_real_server() {
        server.createGroup("cli-rb-group", "device");
        for (int i = 1; i <= 3; i++) {
            server.registerDevice("cli-rbg-" + i, "cli-rb-group");
        }

        Run dry = fleetkey("devices", "revoke-by", "--group", "cli-rb-group", "--reason", "keyCompromise",
                "--dry-run");
        Run wrongExpectation = fleetkey("devices", "revoke-by", "--group", "cli-rb-group", "--reason",
                "keyCompromise", "--yes", "--expect", "2");
        assertThat(dry.exitCode()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("3 device(s) match").contains("cli-rbg-1").contains("nothing was revoked");
        assertThat(wrongExpectation.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(wrongExpectation.err()).contains("3 device(s) match, not the 2 expected");
        assertThat(device("cli-rbg-1").get("status").asText()).isEqualTo("REGISTERED");

        Run yes = fleetkey("devices", "revoke-by", "--group", "cli-rb-group", "--reason", "keyCompromise",
                "--note", "batch recall", "--yes", "--expect", "3");
        Run list = fleetkey("audit", "list", "--action", "device.revoked", "--json");
        Run verify = fleetkey("audit", "verify");
        assertThat(yes.exitCode()).as(yes.err()).isZero();
        assertThat(yes.out()).contains("revoked 3 device(s)");
        for (int i = 1; i <= 3; i++) {
            assertThat(device("cli-rbg-" + i).get("status").asText()).isEqualTo("REVOKED");
        }
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("cli-rbg-1");
        assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
        assertThat(verify.out()).contains("the audit log is intact");
        Matcher head = Pattern.compile("--anchor (\\d+:\\p{XDigit}{64})").matcher(verify.out());
        assertThat(head.find()).isTrue();
        Run anchored = fleetkey("audit", "verify", "--anchor", head.group(1));
        assertThat(anchored.exitCode()).as(anchored.out() + anchored.err()).isZero();
        assertThat(anchored.out()).contains("the anchor holds");
    }
}
