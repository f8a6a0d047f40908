package io.fleetkey.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.DeviceEnroller;
import io.fleetkey.agent.DeviceIdentity;
import io.fleetkey.agent.EnrollmentPendingException;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstCoapsClient;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.EstMqttClient;
import io.fleetkey.agent.EstTransport;
import io.fleetkey.agent.FreshnessNonce;
import io.fleetkey.agent.IdentityDirectory;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fleetkey-agent run}, the device's service, against the real server on each door: it
 * enrolls, renews a short-lived certificate on time, rides out the server being down, and stops
 * for good when the device is revoked, told over MQTT; and a renewal cut short by a restart is
 * finished with the same key and certificate. The commands run in this JVM on a thread, as in
 * their own.
 */
class AgentServiceIT {
    /** With the CA's minute of backdating, three quarters of the lifetime come about 11 s after issue. */
    private static final String VALIDITY = "35s";

    @TempDir
    Path temp;

    private TestServer server;
    private final List<Running> running = new ArrayList<>();

    @AfterEach
    void stop() {
        running.forEach(Running::interrupt);
        if (server != null) {
            server.close();
        }
    }

    /** The doors the agent is tested on; events always come over MQTT. */
    enum Door { HTTPS, COAPS, MQTT }

    /** Fixed ports, so a server started again on the same data is where the agent left it. */
    private record Ports(int https, int coaps, int mqtt, int mqtts) {
        static Ports free() throws Exception {
            try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0);
                 ServerSocket c = new ServerSocket(0); java.net.DatagramSocket d = new java.net.DatagramSocket(0)) {
                return new Ports(a.getLocalPort(), d.getLocalPort(), b.getLocalPort(), c.getLocalPort());
            }
        }

        List<String> door(Door door) {
            return switch (door) {
                case HTTPS -> List.of("--door", "https", "--server", "https://localhost:" + https);
                case COAPS -> List.of("--door", "coaps", "--coap", "coaps://127.0.0.1:" + coaps);
                case MQTT -> List.of("--door", "mqtt", "--mqtt", "ssl://localhost:" + mqtts);
            };
        }
    }

    private TestServer start(Path data, Ports ports, boolean mqtt) {
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.server.ssl.port", ports.https());
        props.put("fleetkey.public-base-url", "https://localhost:" + ports.https());
        props.put("fleetkey.coaps.port", ports.coaps());
        props.put("fleetkey.profiles.short.validity", VALIDITY);
        props.put("fleetkey.profiles.short.extended-key-usages", "clientAuth");
        props.put("fleetkey.profiles.tiny.validity", "2s");
        props.put("fleetkey.profiles.tiny.extended-key-usages", "clientAuth");
        if (mqtt) {
            props.put("fleetkey.mqtt.embedded.enabled", "true");
            props.put("fleetkey.mqtt.embedded.port", ports.mqtt());
            props.put("fleetkey.mqtt.embedded.tls-port", ports.mqtts());
            props.put("fleetkey.mqtt.embedded.tls-bind-address", "127.0.0.1");
        }
        return TestServer.startIn(data, props);
    }

    private void group(String name) {
        assertThat(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", name, "profile", "short")))
                .statusCode()).isIn(201, 409);
    }

    /** The agent command on a thread: its exit status, and what it printed. */
    private record Running(Thread thread, CompletableFuture<Integer> status, ByteArrayOutputStream output) {
        void interrupt() {
            thread.interrupt();
        }

        String printed() {
            return output.toString(StandardCharsets.UTF_8);
        }
    }

    /** Env for quick renewals: three quarters of the lifetime, no jitter, retries after 1-2 s. */
    private static Map<String, String> quickRenewal(Map<String, String> more) {
        Map<String, String> env = new HashMap<>(more);
        env.put("FLEETKEY_AGENT_RENEW_AT", "0.75");
        env.put("FLEETKEY_AGENT_RENEW_JITTER", "0s");
        env.put("FLEETKEY_AGENT_RETRY_MIN", "1s");
        env.put("FLEETKEY_AGENT_RETRY_MAX", "2s");
        return env;
    }

    private Running agent(Map<String, String> env, String... args) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8);
        // AgentCli's constructor and run are the command line's own; reached here as main() would.
        Class<?> cli = Class.forName("io.fleetkey.agent.AgentCli");
        Constructor<?> make = cli.getDeclaredConstructor(PrintStream.class, PrintStream.class, Map.class);
        make.setAccessible(true);
        Object command = make.newInstance(print, print, env);
        Method run = cli.getDeclaredMethod("run", String[].class);
        run.setAccessible(true);
        CompletableFuture<Integer> status = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                status.complete((Integer) run.invoke(command, (Object) args));
            } catch (Exception e) {
                status.completeExceptionally(e);
            }
        }, "agent-run");
        thread.setDaemon(true);
        thread.start();
        Running r = new Running(thread, status, output);
        running.add(r);
        return r;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static String serial(IdentityDirectory directory) {
        try {
            return directory.load().map(DeviceIdentity::serialHex).orElse("");
        } catch (Exception e) {
            return "";
        }
    }

    private static List<String> args(String command, Ports ports, Door door, String... more) {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(ports.door(door));
        args.addAll(List.of(more));
        return args;
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void it_enrolls_renews_a_short_lived_certificate_and_stops_for_good_when_told_it_is_revoked(Door door)
            throws Exception {
        Ports ports = Ports.free();
        server = start(temp.resolve("server"), ports, true);
        group("kiosks");
        String id = "kiosk-" + door.name().toLowerCase(java.util.Locale.ROOT);
        String token = server.registerDevice(id, "kiosks");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        List<String> args = args("run", ports, door, "--ca-cert", server.caChainPem().toString(),
                "--device-id", id, "--dir", directory.dir().toString());
        if (door != Door.MQTT) { // events come over MQTT whatever the door
            args.addAll(List.of("--mqtt", "ssl://localhost:" + ports.mqtts()));
        }
        Running run = agent(quickRenewal(Map.of("FLEETKEY_ENROLLMENT_TOKEN", token)), args.toArray(String[]::new));

        await("enrolled", Duration.ofSeconds(30), () -> !serial(directory).isEmpty());
        String first = serial(directory);
        await("renewed over " + door, Duration.ofSeconds(40), () -> !serial(directory).equals(first));

        assertThat(server.api("POST", "/api/v1/devices/" + id + "/revoke", Json.write(Map.of("reason", "keyCompromise")))
                .statusCode()).isEqualTo(200);
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isEqualTo(6);
        assertThat(run.printed()).contains("is revoked").doesNotContain(token);
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void it_rides_out_the_server_being_down_and_renews_when_it_is_back(Door door) throws Exception {
        Ports ports = Ports.free();
        Path data = temp.resolve("server");
        boolean mqtt = door == Door.MQTT;
        server = start(data, ports, mqtt);
        group("pumps");
        String id = "pump-" + door.name().toLowerCase(java.util.Locale.ROOT);
        String token = server.registerDevice(id, "pumps");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        Running run = agent(quickRenewal(Map.of("FLEETKEY_ENROLLMENT_TOKEN", token)), args("run", ports, door,
                "--ca-cert", server.caChainPem().toString(), "--device-id", id, "--dir", directory.dir().toString())
                .toArray(String[]::new));
        await("enrolled", Duration.ofSeconds(30), () -> !serial(directory).isEmpty());
        String first = serial(directory);

        server.close(); // down before the renewal is due
        server = null;
        Thread.sleep(14_000); // the renewal comes due and fails; the agent retries
        assertThat(serial(directory)).isEqualTo(first);
        assertThat(run.status()).isNotDone();

        server = start(data, ports, mqtt); // back, same CA, registry and ports
        await("renewed once the server is back", Duration.ofSeconds(40), () -> !serial(directory).equals(first));
        run.interrupt();
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isZero();
        assertThat(run.printed()).contains("Stopped.");
    }

    private static EstTransport transport(Door door, Ports ports, String id, List<X509Certificate> anchors,
                                          DeviceIdentity identity) throws Exception {
        return switch (door) {
            case HTTPS -> new EstHttpsClient(java.net.URI.create("https://localhost:" + ports.https()),
                    identity == null ? AgentTls.trusting(anchors) : AgentTls.trusting(anchors, () -> identity));
            case COAPS -> new EstCoapsClient(java.net.URI.create("coaps://127.0.0.1:" + ports.coaps()), anchors,
                    identity, Duration.ofSeconds(30));
            case MQTT -> new EstMqttClient(java.net.URI.create("ssl://localhost:" + ports.mqtts()), id, anchors,
                    identity, Duration.ofSeconds(30));
        };
    }

    @ParameterizedTest
    @EnumSource(Door.class)
    void a_renewal_cut_short_by_a_restart_is_finished_with_the_same_key_and_certificate(Door door) throws Exception {
        Ports ports = Ports.free();
        server = start(temp.resolve("server"), ports, door == Door.MQTT);
        group("tills");
        String id = "till-" + door.name().toLowerCase(java.util.Locale.ROOT);
        String token = server.registerDevice(id, "tills");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        List<X509Certificate> anchors = server.caChain();
        DeviceIdentity first;
        try (IdentityDirectory.Lock lock = directory.lock(); EstTransport est = transport(door, ports, id, anchors, null)) {
            first = new DeviceEnroller(est, anchors, directory).enroll(id, token);
        }
        // A renewal whose answer never reached the disk: the server issued, then the device lost power.
        String[] lost = new String[1];
        try (IdentityDirectory.Lock lock = directory.lock();
             EstTransport est = transport(door, ports, id, anchors, first)) {
            EstTransport dying = new EstTransport() {
                @Override
                public String endpoint() {
                    return est.endpoint();
                }

                @Override
                public List<X509Certificate> caCertificates()
                        throws EstException, java.io.IOException, InterruptedException {
                    return est.caCertificates();
                }

                @Override
                public FreshnessNonce nonce() throws EstException, java.io.IOException, InterruptedException {
                    return est.nonce();
                }

                @Override
                public X509Certificate simpleEnroll(byte[] csr)
                        throws EstException, EnrollmentPendingException, java.io.IOException, InterruptedException {
                    return est.simpleEnroll(csr);
                }

                @Override
                public X509Certificate simpleReenroll(byte[] csr)
                        throws EstException, EnrollmentPendingException, java.io.IOException, InterruptedException {
                    lost[0] = est.simpleReenroll(csr).getSerialNumber().toString(16);
                    throw new java.io.IOException("power cut");
                }

                @Override
                public void close() {
                }
            };
            new DeviceEnroller(dying, anchors, directory).renew();
        } catch (java.io.IOException expected) {
            assertThat(expected).hasMessage("power cut");
        }
        assertThat(serial(directory)).isEqualTo(first.serialHex());

        // Restarted, the agent renews again: the pending key goes out again and the certificate
        // already issued for it comes back; the server issues nothing new.
        Running renew = agent(Map.of(), args("renew", ports, door, "--ca-cert", server.caChainPem().toString(),
                "--dir", directory.dir().toString()).toArray(String[]::new));
        assertThat(renew.status().get(30, TimeUnit.SECONDS)).as(renew.printed()).isZero();
        assertThat(serial(directory)).isEqualTo(lost[0]);
        String device = server.api("GET", "/api/v1/devices/" + id, null).body();
        assertThat(Json.parse(device).get("certificates")).as("no third certificate").hasSize(2);
    }

    @org.junit.jupiter.api.Test
    void an_identity_that_ended_while_the_device_was_off_is_enrolled_again() throws Exception {
        Ports ports = Ports.free();
        server = start(temp.resolve("server"), ports, false);
        assertThat(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "sleepers", "profile", "tiny")))
                .statusCode()).isEqualTo(201);
        String id = "sleeper-1";
        String token = server.registerDevice(id, "sleepers");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        List<X509Certificate> anchors = server.caChain();
        DeviceIdentity first;
        try (IdentityDirectory.Lock lock = directory.lock();
             EstTransport est = transport(Door.HTTPS, ports, id, anchors, null)) {
            first = new DeviceEnroller(est, anchors, directory).enroll(id, token);
        }
        Thread.sleep(Math.max(0, java.time.Duration.between(java.time.Instant.now(), first.notAfter()).toMillis()) + 500);
        // The device was off past its certificate's end. The group's policy here: a new token.
        assertThat(server.api("PATCH", "/api/v1/groups/sleepers", Json.write(Map.of("profile", "short")))
                .statusCode()).isEqualTo(200);
        String fresh = Json.field(server.api("POST", "/api/v1/devices/" + id + "/enrollment-token", null).body(),
                "enrollmentToken");
        Running run = agent(quickRenewal(Map.of("FLEETKEY_ENROLLMENT_TOKEN", fresh)), args("run", ports, Door.HTTPS,
                "--ca-cert", server.caChainPem().toString(), "--dir", directory.dir().toString())
                .toArray(String[]::new));
        await("enrolled again", Duration.ofSeconds(30), () -> !serial(directory).isEmpty()
                && !serial(directory).equals(first.serialHex()));
        assertThat(run.printed()).contains("ended", "enrolling again");
        await("running", Duration.ofSeconds(30), () -> run.printed().contains("Running for device"));
        run.interrupt();
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isZero();
    }

    @org.junit.jupiter.api.Test
    void it_renews_when_a_fleet_manager_asks_and_learns_from_the_crl_at_start_that_it_was_revoked() throws Exception {
        Ports ports = Ports.free();
        server = start(temp.resolve("server"), ports, true);
        assertThat(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "tills", "profile", "device")))
                .statusCode()).isEqualTo(201);
        String id = "till-9";
        String token = server.registerDevice(id, "tills");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        String[] args = args("run", ports, Door.HTTPS, "--ca-cert", server.caChainPem().toString(), "--device-id", id,
                "--dir", directory.dir().toString(), "--mqtt", "ssl://localhost:" + ports.mqtts()).toArray(String[]::new);
        Running run = agent(Map.of("FLEETKEY_ENROLLMENT_TOKEN", token), args);
        await("listening for events", Duration.ofSeconds(30), () -> run.printed().contains("Listening for device events"));
        String first = serial(directory);

        // A 90-day certificate is not due for months: the renewal comes from the renew-now notice.
        assertThat(server.api("POST", "/api/v1/devices/" + id + "/renew-now", null).statusCode()).isEqualTo(202);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (serial(directory).equals(first)) {
            assertThat(System.nanoTime()).as("renewed on the fleet manager's word: " + run.printed())
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
        run.interrupt();
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isZero();

        // Revoked while the device was off; at start, without the events topic, the CRL tells it.
        assertThat(server.api("POST", "/api/v1/devices/" + id + "/revoke", Json.write(Map.of("reason", "superseded")))
                .statusCode()).isEqualTo(200);
        Running again = agent(Map.of(), args("run", ports, Door.HTTPS, "--ca-cert", server.caChainPem().toString(),
                "--dir", directory.dir().toString()).toArray(String[]::new));
        assertThat(again.status().get(30, TimeUnit.SECONDS)).as(again.printed()).isEqualTo(6);
        assertThat(again.printed()).contains("is on the CRL");
    }
}
