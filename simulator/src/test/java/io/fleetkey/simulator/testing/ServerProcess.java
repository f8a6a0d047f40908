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
import java.util.concurrent.TimeUnit;

import io.fleetkey.agent.AgentTls;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Fleetkey server for the simulator's tests: the server's jar, built by the reactor
 * before this module, started as its own process on a free HTTPS port with a fresh data folder,
 * CoAP on an ephemeral loopback port and no embedded broker. Outside CI a missing jar skips the
 * test; in CI it fails it.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Path SERVER_JAR = Path.of("..", "server", "target", "fleetkey-server.jar");

    private final Process process;
    private final String base;
    private final Path chain;
    private final Path log;

    private ServerProcess(Process process, String base, Path chain, Path log) {
        this.process = process;
        this.base = base;
        this.chain = chain;
        this.log = log;
    }

    /** Starts a server with its data under {@code dir} and waits until it reports healthy. */
    public static ServerProcess start(Path dir, String adminToken) throws Exception {
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
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dfleetkey.data-dir=" + data, "-Dfleetkey.admin-token=" + adminToken,
                "-Dmicronaut.server.ssl.port=" + port, "-Dfleetkey.public-base-url=" + base,
                "-Dfleetkey.coaps.port=0", "-Dfleetkey.coaps.bind-address=127.0.0.1",
                "-Dfleetkey.mqtt.embedded.enabled=false", "-jar", SERVER_JAR.toAbsolutePath().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("FLEETKEY_CA_PASSWORD", "simulator-test-ca-password");
        ServerProcess server = new ServerProcess(pb.start(), base, data.resolve("ca").resolve("chain.pem"), log);
        server.awaitHealthy(Duration.ofSeconds(90));
        return server;
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
