package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.EstOperation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentCliTest {
    private static final String TOKEN = "tok-3f9a2c";

    @TempDir
    Path tmp;

    private final TestPki pki = new TestPki("Cli");
    private FakeEstServer server;
    private Path caFile;
    private Path dir;
    private final Map<String, String> env = new HashMap<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        server = new FakeEstServer(pki).register("dev-1", TOKEN);
        caFile = tmp.resolve("chain.pem");
        KeyFiles.writeCertificates(caFile, pki.caCertificates());
        dir = tmp.resolve("identity");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return new AgentCli(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(args);
    }

    private int enroll(String... extra) {
        List<String> args = new ArrayList<>(List.of("enroll", "--server", server.uri().toString(),
                "--ca-cert", caFile.toString(), "--device-id", "dev-1", "--dir", dir.toString()));
        args.addAll(List.of(extra));
        return run(args.toArray(String[]::new));
    }

    private int renew() {
        return run("renew", "--server", server.uri().toString(), "--ca-cert", caFile.toString(), "--dir", dir.toString());
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void help_shows_the_commands_and_exit_statuses() {
        assertThat(run("--help")).isEqualTo(AgentCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("enroll", "renew", "FLEETKEY_ENROLLMENT_TOKEN",
                "Exit status");
        assertThat(run("enroll", "--help")).isEqualTo(AgentCli.OK);
    }

    @Test
    void no_command_is_a_usage_error() {
        assertThat(run()).isEqualTo(AgentCli.USAGE);
        assertThat(run("enrol")).isEqualTo(AgentCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command 'enrol'");
    }

    @Test
    void enroll_without_a_token_says_how_to_give_one() {
        assertThat(enroll()).isEqualTo(AgentCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("set FLEETKEY_ENROLLMENT_TOKEN");
    }

    @Test
    void an_invalid_device_id_is_a_usage_error() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(run("enroll", "--server", server.uri().toString(), "--ca-cert", caFile.toString(),
                "--device-id", "dev 1")).isEqualTo(AgentCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("not a valid device id");
    }

    @Test
    void enroll_then_renew_replaces_the_identity_and_never_prints_the_token() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(enroll()).isEqualTo(AgentCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Enrolled device 'dev-1'");
        assertThat(output()).doesNotContain(TOKEN);
        Path key = dir.resolve(IdentityDirectory.KEY_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        String firstSerial = new IdentityDirectory(dir).load().orElseThrow().serialHex();

        assertThat(renew()).isEqualTo(AgentCli.OK);
        DeviceIdentity renewed = new IdentityDirectory(dir).load().orElseThrow();
        assertThat(renewed.serialHex()).isNotEqualTo(firstSerial);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Renewed device 'dev-1'", firstSerial);
        assertThat(server.receivedKeys).hasSize(2);
        assertThat(server.receivedKeys.get(1)).isNotEqualTo(server.receivedKeys.get(0));
    }

    @Test
    void a_token_on_the_command_line_works_with_a_warning() {
        assertThat(enroll("--token", TOKEN)).isEqualTo(AgentCli.OK);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("visible in the process list");
    }

    @Test
    void a_wrong_token_says_to_check_device_id_and_token_without_a_stack_trace() {
        env.put(AgentCli.TOKEN_ENV, "wrong");
        assertThat(enroll()).isEqualTo(AgentCli.REFUSED);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("check the device id and the enrollment token")
                .doesNotContain("\tat ").doesNotContain("wrong");
    }

    @Test
    void enrolling_an_enrolled_directory_is_refused_locally() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(enroll()).isEqualTo(AgentCli.OK);
        assertThat(enroll()).isEqualTo(AgentCli.LOCAL_PROBLEM);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("already holds the identity of device 'dev-1'",
                "renew");
    }

    @Test
    void renewing_without_an_identity_says_to_enroll_first() {
        assertThat(renew()).isEqualTo(AgentCli.LOCAL_PROBLEM);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Enroll first");
    }

    @Test
    void waiting_for_approval_exits_3_and_the_retry_sends_the_same_key() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        server.answer(EstOperation.SIMPLE_ENROLL, FakeEstServer.Canned.of(202, Map.of("Retry-After", "30"),
                "device 'dev-1' waits for a fleet manager's approval"));
        assertThat(enroll()).isEqualTo(AgentCli.PENDING);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("again in 30 s");

        server.answerNormally(EstOperation.SIMPLE_ENROLL);
        assertThat(enroll()).isEqualTo(AgentCli.OK);
        assertThat(server.receivedKeys).hasSize(2);
        assertThat(server.receivedKeys.get(1)).isEqualTo(server.receivedKeys.get(0));
        assertThat(dir.resolve("pending")).doesNotExist();
    }

    @Test
    void a_lost_answer_is_retried_with_the_same_key_and_gets_the_same_certificate() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        Path pending = dir.resolve("pending");
        // First attempt: the server issues, but the agent never commits (as if the answer were lost).
        IdentityDirectory directory = new IdentityDirectory(dir);
        var keys = directory.pendingKeyPair();
        EstHttpsClient est = new EstHttpsClient(server.uri(), AgentTls.trusting(pki.caCertificates()));
        var lost = est.simpleEnroll(KeyFiles.certificationRequest(keys, "dev-1",
                java.util.List.of(KeyFiles.challengePassword(TOKEN))));
        assertThat(pending).exists();

        assertThat(enroll()).isEqualTo(AgentCli.OK);
        assertThat(directory.load().orElseThrow().certificate()).isEqualTo(lost);
    }

    @Test
    void a_server_outside_the_trusted_ca_names_the_ca_file() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        KeyFiles.writeCertificates(tmp.resolve("other.pem"), List.of(new TestPki("Other").root));
        caFile = tmp.resolve("other.pem");
        assertThat(enroll()).isEqualTo(AgentCli.UNREACHABLE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not chain to the CA certificates in --ca-cert");
    }

    @Test
    void an_unreachable_server_says_so() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertThat(run("enroll", "--server", "https://localhost:" + closedPort, "--ca-cert", caFile.toString(),
                "--device-id", "dev-1", "--dir", dir.toString())).isEqualTo(AgentCli.UNREACHABLE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot connect");
    }

    @Test
    void a_missing_ca_file_says_where_to_get_it() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        caFile = tmp.resolve("missing.pem");
        assertThat(enroll()).isEqualTo(AgentCli.LOCAL_PROBLEM);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no such file", "chain.pem");
    }

    @Test
    void an_unknown_door_is_a_usage_error() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(enroll("--door", "smtp")).isEqualTo(AgentCli.USAGE);
        assertThat(output()).contains("use https, coaps or mqtt");
    }

    @Test
    void a_door_without_its_address_says_which_option_to_give() {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(enroll("--door", "coaps")).isEqualTo(AgentCli.USAGE);
        assertThat(output()).contains("--door coaps needs --coap");
        assertThat(enroll("--door", "mqtt", "--mqtt", "tcp://localhost:1883")).isEqualTo(AgentCli.USAGE);
        assertThat(output()).contains("--mqtt must be a URL such as ssl://");
    }

    @Test
    void a_coaps_server_that_does_not_answer_is_unreachable_within_the_timeout() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        int silentPort;
        try (java.net.DatagramSocket silent = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            silentPort = silent.getLocalPort(); // bound, never answers: DTLS handshakes go unanswered
            long start = System.nanoTime();
            assertThat(run("enroll", "--door", "coaps", "--coap", "coaps://127.0.0.1:" + silentPort, "--ca-cert",
                    caFile.toString(), "--device-id", "dev-1", "--dir", dir.toString())).isEqualTo(AgentCli.UNREACHABLE);
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
                    .isLessThan(EstCoapsClient.DEFAULT_TIMEOUT.plusSeconds(10));
        }
        assertThat(output()).contains("did not answer in time").doesNotContain(TOKEN);
    }

    @Test
    void an_mqtt_broker_that_cannot_be_reached_is_unreachable() throws Exception {
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertThat(run("enroll", "--door", "mqtt", "--mqtt", "ssl://localhost:" + closedPort, "--ca-cert",
                caFile.toString(), "--device-id", "dev-1", "--dir", dir.toString())).isEqualTo(AgentCli.UNREACHABLE);
        assertThat(output()).contains("localhost").doesNotContain(TOKEN);
    }

    @Test
    void status_shows_the_identity_and_when_it_is_due_and_says_so_when_there_is_none() throws Exception {
        assertThat(run("status", "--dir", dir.toString())).isEqualTo(AgentCli.LOCAL_PROBLEM);
        assertThat(output()).contains("holds no identity");
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        assertThat(enroll()).isZero();
        assertThat(run("status", "--dir", dir.toString())).as(output()).isZero();
        assertThat(output()).contains("device        dev-1", "renewal due", "valid");
        assertThat(output()).doesNotContain(TOKEN);
    }

    @Test
    void settings_come_from_a_file_and_the_environment_and_typos_are_usage_errors() throws Exception {
        java.nio.file.Path config = java.nio.file.Files.writeString(tmp.resolve("agent.conf"),
                "server = " + server.uri() + "\nca-cert = " + caFile + "\ndevice-id = dev-1\n");
        env.put(AgentCli.TOKEN_ENV, TOKEN);
        env.put("FLEETKEY_AGENT_DIR", dir.toString());
        assertThat(run("enroll", "--config", config.toString())).as(output()).isZero();
        assertThat(run("status", "--config", config.toString())).as(output()).isZero();

        java.nio.file.Path typo = java.nio.file.Files.writeString(tmp.resolve("typo.conf"), "sever = x\n");
        assertThat(run("status", "--config", typo.toString())).isEqualTo(AgentCli.USAGE);
        assertThat(output()).contains("unknown keys [sever]");
    }

    @Test
    void an_idevid_needs_its_password_from_the_environment() {
        assertThat(enroll("--idevid", tmp.resolve("idevid.p12").toString())).isEqualTo(AgentCli.USAGE);
        assertThat(output()).contains(AgentCli.IDEVID_PASSWORD_ENV);
    }
}
