package io.fleetkey.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.DeviceEnroller;
import io.fleetkey.agent.DeviceIdentity;
import io.fleetkey.agent.EnrollmentPendingException;
import io.fleetkey.agent.EstCoapsClient;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.EstMqttClient;
import io.fleetkey.agent.EstTransport;
import io.fleetkey.agent.FreshnessNonce;
import io.fleetkey.agent.IdentityDirectory;
import io.fleetkey.agent.KeyFiles;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real device agent against the real server, on every door: first boot with a one-time token,
 * renewal with the current certificate, a refused token, a request held for approval, and the
 * command line in a 32 MB heap. The
 * agent pins the Fleetkey root alone; everything else it must learn from the server. One server
 * (with the embedded broker, which is slow to start) serves the whole class.
 */
class AgentDoorsIT {
    private static final long APPROVAL_RETRY_SECONDS = 42;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger DEVICES = new AtomicInteger();

    private static TestServer server;
    private static X509Certificate root;

    enum Door { HTTPS, COAPS, MQTT }

    @BeforeAll
    static void start() {
        Map<String, Object> settings = new java.util.HashMap<>(TestServer.withMqtt());
        settings.put("fleetkey.enrollment.approval-retry-after", APPROVAL_RETRY_SECONDS + "s");
        server = TestServer.start(settings);
        root = server.caChain().get(server.caChain().size() - 1);
        server.createGroup("agents", "device");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "held", "profile", "device",
                "requireApproval", true)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The agent's transport for a door, trusting the pinned root only, presenting the identity if any. */
    private static EstTransport transport(Door door, String deviceId, DeviceIdentity identity) throws Exception {
        List<X509Certificate> anchors = List.of(root);
        return switch (door) {
            case HTTPS -> new EstHttpsClient(URI.create("https://localhost:" + server.port()),
                    identity == null ? AgentTls.trusting(anchors) : AgentTls.trusting(anchors, () -> identity));
            case COAPS -> new EstCoapsClient(URI.create("coaps://127.0.0.1:" + server.coapsPort()), anchors, identity,
                    TIMEOUT);
            case MQTT -> new EstMqttClient(URI.create("ssl://localhost:" + server.mqttsPort()), deviceId, anchors,
                    identity, TIMEOUT);
        };
    }

    private static String newDeviceId(Door door) {
        return "agent-" + door.name().toLowerCase() + "-" + DEVICES.incrementAndGet();
    }

    private static IdentityDirectory newDirectory() throws Exception {
        return new IdentityDirectory(Files.createTempDirectory("fleetkey-agent-it-").resolve("identity"));
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void a_token_device_enrolls_and_then_renews_with_its_certificate_over_the_same_door(Door door) throws Exception {
        String deviceId = newDeviceId(door);
        String token = server.registerDevice(deviceId, "agents");
        IdentityDirectory directory = newDirectory();

        DeviceIdentity first;
        try (EstTransport est = transport(door, deviceId, null)) {
            first = new DeviceEnroller(est, List.of(root), directory).enroll(deviceId, token);
        }
        assertThat(first.deviceId()).isEqualTo(deviceId);
        assertChainsToPinnedRoot(first);
        DeviceIdentity loaded = directory.load().orElseThrow(); // load() checks key and certificate belong together
        assertThat(loaded.certificate()).isEqualTo(first.certificate());
        assertThat(KeyFiles.readKeyPair(directory.keyFile()).getPublic()).isEqualTo(first.certificate().getPublicKey());

        DeviceIdentity renewed;
        try (EstTransport est = transport(door, deviceId, first)) {
            renewed = new DeviceEnroller(est, List.of(root), directory).renew();
        }
        assertThat(renewed.deviceId()).isEqualTo(deviceId);
        assertThat(renewed.certificate().getSerialNumber()).isNotEqualTo(first.certificate().getSerialNumber());
        assertThat(renewed.certificate().getPublicKey()).isNotEqualTo(first.certificate().getPublicKey());
        assertChainsToPinnedRoot(renewed);
        assertThat(directory.load().orElseThrow().certificate()).isEqualTo(renewed.certificate());
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void a_wrong_token_is_refused_with_its_failure_code_and_nothing_is_committed(Door door) throws Exception {
        String deviceId = newDeviceId(door);
        server.registerDevice(deviceId, "agents");
        IdentityDirectory directory = newDirectory();

        EstException refused;
        try (EstTransport est = transport(door, deviceId, null)) {
            refused = catchThrowableOfType(() -> new DeviceEnroller(est, List.of(root), directory)
                    .enroll(deviceId, "not-the-token"), EstException.class);
        }
        assertThat(refused).as("an EstException").isNotNull();
        assertThat(refused.code()).contains(FailureCode.NOT_AUTHENTICATED);
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.reason()).contains(deviceId).doesNotContain("not-the-token");
        assertThat(refused.getMessage()).doesNotContain("not-the-token");
        assertThat(directory.load()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void a_device_of_a_group_that_requires_approval_is_told_to_retry_later(Door door) throws Exception {
        String deviceId = newDeviceId(door);
        String token = server.registerDevice(deviceId, "held");
        IdentityDirectory directory = newDirectory();

        EnrollmentPendingException pending;
        try (EstTransport est = transport(door, deviceId, null)) {
            pending = catchThrowableOfType(() -> new DeviceEnroller(est, List.of(root), directory)
                    .enroll(deviceId, token), EnrollmentPendingException.class);
        }
        assertThat(pending).as("an EnrollmentPendingException").isNotNull();
        assertThat(pending.retryAfter()).isEqualTo(Duration.ofSeconds(APPROVAL_RETRY_SECONDS));
        assertThat(pending.reason()).isNotBlank();
        assertThat(directory.load()).isEmpty();
        assertThat(directory.dir().resolve("pending").resolve(IdentityDirectory.KEY_FILE)).exists();
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void every_door_hands_out_a_fresh_nonce(Door door) throws Exception {
        String deviceId = newDeviceId(door);
        server.registerDevice(deviceId, "agents"); // the broker admits registered devices only
        try (EstTransport est = transport(door, deviceId, null)) {
            FreshnessNonce first = est.nonce();
            FreshnessNonce second = est.nonce();
            assertThat(first.value()).isNotEqualTo(second.value());
            assertThat(first.expiry()).isPositive();
            assertThat(est.caCertificates()).contains(root);
        }
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void the_command_line_enrolls_and_renews_in_a_32_mb_heap(Door door) throws Exception {
        String deviceId = newDeviceId(door);
        String token = server.registerDevice(deviceId, "agents");
        Path dir = Files.createTempDirectory("fleetkey-agent-cli-").resolve("identity");
        List<String> address = switch (door) {
            case HTTPS -> List.of("--door", "https", "--server", "https://localhost:" + server.port());
            case COAPS -> List.of("--door", "coaps", "--coap", "coaps://127.0.0.1:" + server.coapsPort());
            case MQTT -> List.of("--door", "mqtt", "--mqtt", "ssl://localhost:" + server.mqttsPort());
        };
        List<String> common = List.of("--ca-cert", server.caChainPem().toString(), "--dir", dir.toString());

        List<String> enroll = new java.util.ArrayList<>(List.of("enroll", "--device-id", deviceId));
        enroll.addAll(address);
        enroll.addAll(common);
        assertThat(agent(enroll, token)).contains("Enrolled device '" + deviceId + "'").doesNotContain(token);
        List<String> renew = new java.util.ArrayList<>(List.of("renew"));
        renew.addAll(address);
        renew.addAll(common);
        assertThat(agent(renew, token)).contains("Renewed device '" + deviceId + "'");
    }

    /** Runs the agent's command line in its own JVM with a 32 MB heap; returns its output. */
    private static String agent(List<String> args, String token) throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:+UseSerialGC", "-cp", classPath, "io.fleetkey.agent.AgentCli"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("FLEETKEY_ENROLLMENT_TOKEN", token);
        Process process = builder.start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String text = new String(output, java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(text).isZero();
        return text;
    }

    /** PKIX validation with the pinned root as the only anchor: the device's stored chain is enough. */
    private static void assertChainsToPinnedRoot(DeviceIdentity identity) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(identity.chain()), parameters);
    }
}
