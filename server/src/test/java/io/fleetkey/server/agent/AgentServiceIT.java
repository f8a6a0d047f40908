package io.fleetkey.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.EstTransport;
import io.fleetkey.agent.FreshnessNonce;
import io.fleetkey.agent.IdentityDirectory;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fleetkey-agent run}, the device's service, against the real server: it enrolls, renews
 * a short-lived certificate on time, rides out the server being down, and stops for good when
 * the device is revoked, told over MQTT; and a renewal cut short by a restart is finished with
 * the same key and certificate. The commands run in this JVM on a thread, as in their own.
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

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private TestServer start(Path data, int port, boolean mqtt) {
        Map<String, Object> props = new HashMap<>(mqtt ? TestServer.withMqtt() : Map.of());
        props.put("micronaut.server.ssl.port", port);
        props.put("fleetkey.public-base-url", "https://localhost:" + port);
        props.put("fleetkey.profiles.short.validity", VALIDITY);
        props.put("fleetkey.profiles.short.extended-key-usages", "clientAuth");
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

    @Test
    void over_mqtt_it_enrolls_renews_and_stops_for_good_when_told_it_is_revoked() throws Exception {
        int port = freePort();
        server = start(temp.resolve("server"), port, true);
        group("kiosks");
        String token = server.registerDevice("kiosk-1", "kiosks");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve("kiosk-1"));
        Running run = agent(quickRenewal(Map.of("FLEETKEY_ENROLLMENT_TOKEN", token)), "run", "--door", "mqtt",
                "--mqtt", "ssl://localhost:" + server.mqttsPort(), "--ca-cert", server.caChainPem().toString(),
                "--device-id", "kiosk-1", "--dir", directory.dir().toString());

        await("enrolled", Duration.ofSeconds(30), () -> !serial(directory).isEmpty());
        String first = serial(directory);
        await("renewed over MQTT", Duration.ofSeconds(40), () -> !serial(directory).equals(first));

        assertThat(server.api("POST", "/api/v1/devices/kiosk-1/revoke", Json.write(Map.of("reason", "keyCompromise")))
                .statusCode()).isEqualTo(200);
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isEqualTo(6);
        assertThat(run.printed()).contains("is revoked");
    }

    @Test
    void over_https_it_rides_out_the_server_being_down_and_renews_when_it_is_back() throws Exception {
        int port = freePort();
        Path data = temp.resolve("server");
        server = start(data, port, false);
        group("pumps");
        String token = server.registerDevice("pump-1", "pumps");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve("pump-1"));
        Running run = agent(quickRenewal(Map.of("FLEETKEY_ENROLLMENT_TOKEN", token)), "run", "--door", "https",
                "--server", "https://localhost:" + port, "--ca-cert", server.caChainPem().toString(),
                "--device-id", "pump-1", "--dir", directory.dir().toString());
        await("enrolled", Duration.ofSeconds(30), () -> !serial(directory).isEmpty());
        String first = serial(directory);
        Path chain = server.caChainPem();

        server.close(); // down before the renewal is due
        server = null;
        Thread.sleep(14_000); // the renewal comes due and fails; the agent retries
        assertThat(serial(directory)).isEqualTo(first);
        assertThat(run.status()).isNotDone();

        server = start(data, port, false); // back, same CA and registry
        await("renewed once the server is back", Duration.ofSeconds(30), () -> !serial(directory).equals(first));
        assertThat(chain).exists();
        run.interrupt();
        assertThat(run.status().get(20, TimeUnit.SECONDS)).as(run.printed()).isZero();
        assertThat(run.printed()).contains("Stopped.");
    }

    @Test
    void a_renewal_cut_short_by_a_restart_is_finished_with_the_same_key_and_certificate() throws Exception {
        int port = freePort();
        server = start(temp.resolve("server"), port, false);
        group("tills");
        String token = server.registerDevice("till-1", "tills");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve("till-1"));
        var anchors = server.caChain();
        java.net.URI https = java.net.URI.create("https://localhost:" + port);
        DeviceIdentity first;
        try (IdentityDirectory.Lock lock = directory.lock();
             EstHttpsClient est = new EstHttpsClient(https, AgentTls.trusting(anchors))) {
            first = new DeviceEnroller(est, anchors, directory).enroll("till-1", token);
        }
        // A renewal whose answer never reached the disk: the server issued, then the device lost power.
        String[] lost = new String[1];
        try (IdentityDirectory.Lock lock = directory.lock();
             EstHttpsClient est = new EstHttpsClient(https, AgentTls.trusting(anchors, () -> first))) {
            EstTransport dying = new EstTransport() {
                @Override
                public String endpoint() {
                    return est.endpoint();
                }

                @Override
                public java.util.List<java.security.cert.X509Certificate> caCertificates()
                        throws EstException, java.io.IOException, InterruptedException {
                    return est.caCertificates();
                }

                @Override
                public FreshnessNonce nonce() throws EstException, java.io.IOException, InterruptedException {
                    return est.nonce();
                }

                @Override
                public java.security.cert.X509Certificate simpleEnroll(byte[] csr)
                        throws EstException, EnrollmentPendingException, java.io.IOException, InterruptedException {
                    return est.simpleEnroll(csr);
                }

                @Override
                public java.security.cert.X509Certificate simpleReenroll(byte[] csr)
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
        Running renew = agent(Map.of(), "renew", "--server", "https://localhost:" + port, "--ca-cert",
                server.caChainPem().toString(), "--dir", directory.dir().toString());
        assertThat(renew.status().get(30, TimeUnit.SECONDS)).as(renew.printed()).isZero();
        assertThat(serial(directory)).isEqualTo(lost[0]);
        String certificates = server.api("GET", "/api/v1/devices/till-1", null).body();
        assertThat(Json.parse(certificates).get("certificates")).as("no third certificate").hasSize(2);
    }
}
