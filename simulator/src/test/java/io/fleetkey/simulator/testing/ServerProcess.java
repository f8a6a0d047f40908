package io.fleetkey.simulator.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.fleetkey.agent.AgentTls;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Fleetkey server for the simulator's tests: the server's jar, built by the reactor
 * before this module, started as its own process on a free HTTPS port with a fresh data folder.
 * By default CoAP listens on an ephemeral loopback port and there is no embedded broker;
 * {@link #startWithAllDoors} opens CoAP and the embedded broker's TLS port on free loopback ports
 * a test can reach. Outside CI a missing jar skips the test; in CI it fails it.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Path SERVER_JAR = Path.of("..", "server", "target", "fleetkey-server.jar");

    private final Process process;
    private final String base;
    private final Path chain;
    private final Path log;
    private final int coapsPort;
    private final int mqttsPort;

    private ServerProcess(Process process, String base, Path chain, Path log, int coapsPort, int mqttsPort) {
        this.process = process;
        this.base = base;
        this.chain = chain;
        this.log = log;
        this.coapsPort = coapsPort;
        this.mqttsPort = mqttsPort;
    }

    /** Starts a server with its data under {@code dir} and waits until it reports healthy. */
    public static ServerProcess start(Path dir, String adminToken) throws Exception {
        return start(dir, adminToken, false);
    }

    /** As {@link #start(Path, String)}, with CoAP and the embedded MQTT broker (TLS) on free loopback ports. */
    public static ServerProcess startWithAllDoors(Path dir, String adminToken) throws Exception {
        return start(dir, adminToken, true);
    }

    private static ServerProcess start(Path dir, String adminToken, boolean allDoors) throws Exception {
        if (!Files.isRegularFile(SERVER_JAR)) {
            if (System.getenv("CI") != null) {
                fail(SERVER_JAR + " is missing; the reactor builds the server before the simulator");
            }
            Assumptions.abort("build the server first: mvn -pl server -am package -DskipTests");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String base = "https://localhost:" + port;
        Path data = dir.resolve("data");
        Path log = dir.resolve("server.log");
        int coapsPort = allDoors ? freeUdpPort() : 0;
        int mqttsPort = allDoors ? freeTcpPort() : 0;
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dfleetkey.data-dir=" + data, "-Dfleetkey.admin-token=" + adminToken,
                "-Dmicronaut.server.ssl.port=" + port, "-Dfleetkey.public-base-url=" + base,
                "-Dfleetkey.coaps.port=" + coapsPort, "-Dfleetkey.coaps.bind-address=127.0.0.1"));
        if (allDoors) {
            command.addAll(List.of("-Dfleetkey.mqtt.embedded.port=" + freeTcpPort(),
                    "-Dfleetkey.mqtt.embedded.tls-port=" + mqttsPort, "-Dfleetkey.mqtt.embedded.tls-bind-address=127.0.0.1"));
        } else {
            command.add("-Dfleetkey.mqtt.embedded.enabled=false");
        }
        command.addAll(List.of("-jar", SERVER_JAR.toAbsolutePath().toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("FLEETKEY_CA_PASSWORD", "simulator-test-ca-password");
        ServerProcess server = new ServerProcess(pb.start(), base, data.resolve("ca").resolve("chain.pem"), log,
                coapsPort, mqttsPort);
        server.awaitHealthy(Duration.ofSeconds(90));
        return server;
    }

    /** {@code coaps://127.0.0.1:PORT}; only after {@link #startWithAllDoors}. */
    public String coap() {
        return "coaps://127.0.0.1:" + coapsPort;
    }

    /** {@code ssl://127.0.0.1:PORT}, the embedded broker's TLS port; only after {@link #startWithAllDoors}. */
    public String mqtt() {
        return "ssl://127.0.0.1:" + mqttsPort;
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static int freeUdpPort() throws IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code https://localhost:PORT}. */
    public String base() {
        return base;
    }

    /** The server's CA chain (PEM), which its TLS certificate chains to. */
    public Path chain() {
        return chain;
    }

    private void awaitHealthy(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpClient client = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("the server stopped: " + Files.readString(log));
            }
            if (client == null && Files.isRegularFile(chain)) {
                client = HttpClient.newBuilder().sslContext(AgentTls.trusting(AgentTls.readTrustAnchors(chain)))
                        .connectTimeout(Duration.ofSeconds(5)).build();
            }
            if (client != null) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/health"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        return;
                    }
                } catch (IOException | IllegalArgumentException e) {
                    // not listening yet, or the chain is still being written
                }
            }
            Thread.sleep(250);
        }
        close();
        fail("the server was not healthy within " + timeout + ": " + Files.readString(log));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
