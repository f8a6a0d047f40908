package io.fleetkey.simulator;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fleetkey.agent.AgentTls;

/**
 * A Fleetkey server inside the simulator's process, on embedded defaults (H2, the embedded MQTT
 * broker), all three doors on free loopback ports and a fresh data folder. It is loaded from the
 * server's own jar in a class loader of its own, so the server's libraries and the agent's never
 * meet on one class path; each start gets a new class loader, so a restart starts from clean
 * static state, as a new process would, on the same data and ports.
 */
final class InProcessServer implements AutoCloseable, FleetStorm.Restartable {
    private static final String SERVER_JAR = "fleetkey-server.jar";

    private final Path jar;
    private final Path data;
    private final Map<String, Object> settings = new LinkedHashMap<>();
    private final String adminToken;
    private final int httpsPort;
    private final int coapsPort;
    private final int mqttsPort;
    /** The Mosquitto the server uses instead of its embedded broker, or null. */
    private MosquittoBroker mosquitto;
    private AutoCloseable running;

    private InProcessServer(Path jar, Path data) throws IOException {
        this.jar = jar;
        this.data = data;
        this.adminToken = randomHex(24);
        this.httpsPort = freeTcpPort();
        this.coapsPort = freeUdpPort();
        this.mqttsPort = freeTcpPort();
        settings.put("fleetkey.data-dir", data.toString());
        settings.put("fleetkey.admin-token", adminToken);
        settings.put("fleetkey.ca.password", randomHex(16));
        settings.put("micronaut.server.ssl.port", httpsPort);
        settings.put("fleetkey.public-base-url", "https://localhost:" + httpsPort);
        settings.put("fleetkey.coaps.port", coapsPort);
        settings.put("fleetkey.coaps.bind-address", "127.0.0.1");
        settings.put("fleetkey.mqtt.embedded.port", freeTcpPort());
        settings.put("fleetkey.mqtt.embedded.tls-port", mqttsPort);
        settings.put("fleetkey.mqtt.embedded.tls-bind-address", "127.0.0.1");
        settings.put("logger.levels.io.fleetkey", "WARN"); // the simulator tells the story; the server's log would drown it
    }

    /** Starts a server from {@code jar} with its data in a new folder under the system's temp folder. */
    static InProcessServer start(Path jar) throws IOException {
        return start(jar, false);
    }

    /**
     * Starts a server whose MQTT door is {@code broker}, a Mosquitto the simulator runs, instead of
     * the embedded broker; the broker's files go into the server's data folder.
     *
     * @param mosquitto false for the embedded broker
     */
    static InProcessServer start(Path jar, boolean mosquitto) throws IOException {
        InProcessServer server = new InProcessServer(jar, Files.createTempDirectory("fleetkey-sim-server-"));
        if (mosquitto) {
            server.mosquitto = MosquittoBroker.prepare(server.data.resolve("mosquitto"));
            server.settings.putAll(server.mosquitto.serverSettings());
        }
        try {
            // The server first: its CA is what the broker checks device certificates against. Its MQTT
            // listener keeps trying until the broker is up.
            server.startAgain();
            if (server.mosquitto != null) {
                server.mosquitto.start(server.data.resolve("ca").resolve("chain.pem"));
            }
        } catch (IOException e) {
            server.stopBroker();
            throw e;
        }
        return server;
    }

    /** The Mosquitto this server uses as its MQTT door, if it was started with one. */
    Optional<MosquittoBroker> mosquitto() {
        return Optional.ofNullable(mosquitto);
    }

    @Override
    public String what() {
        return "server";
    }

    /** Where the server jar is: the option, else server/target under the working folder, else beside this jar's module. */
    static Optional<Path> findJar(Optional<String> option) {
        if (option.isPresent()) {
            return Optional.of(Path.of(option.get())).filter(Files::isRegularFile);
        }
        Path fromHere = Path.of("server", "target", SERVER_JAR);
        if (Files.isRegularFile(fromHere)) {
            return Optional.of(fromHere);
        }
        try {
            Path ownJar = Path.of(InProcessServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // simulator/target/fleetkey-simulator.jar -> server/target/fleetkey-server.jar
            Path sibling = ownJar.getParent().getParent().getParent().resolve("server").resolve("target").resolve(SERVER_JAR);
            return Optional.of(sibling).filter(Files::isRegularFile);
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Stops the server; {@link #startAgain()} brings it back on the same data and ports. */
    @Override
    public synchronized void stop() throws Exception {
        if (running != null) {
            try {
                running.close();
            } finally {
                // The class loader is not closed: a few of the server's threads (Netty event loops)
                // still end their work after the context is closed, and a closed loader fails their
                // last class loads with NoClassDefFoundError on stderr. Unreachable, it is collected
                // with its jar file.
                running = null;
            }
        }
    }

    /** Starts the server (again), in a new class loader; returns when it is up. */
    @Override
    public synchronized void startAgain() throws IOException {
        if (running != null) {
            return;
        }
        URLClassLoader fresh = new URLClassLoader(new URL[]{jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(fresh);
        try {
            running = (AutoCloseable) fresh.loadClass("io.fleetkey.server.Application").getMethod("start", Map.class)
                    .invoke(null, settings);
        } catch (InvocationTargetException e) {
            fresh.close();
            throw new IOException("the server did not start: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            fresh.close();
            throw new IOException(jar + " is not a Fleetkey server jar with Application.start: " + e, e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    FleetStorm.Doors doors() {
        return new FleetStorm.Doors(URI.create("https://localhost:" + httpsPort), URI.create("coaps://127.0.0.1:" + coapsPort),
                mosquitto != null ? mosquitto.uri() : URI.create("ssl://127.0.0.1:" + mqttsPort),
                mosquitto != null ? mosquitto.certifiedUri() : null);
    }

    /** The server's CA certificates, and the broker's own certificate when it runs Mosquitto. */
    List<X509Certificate> anchors() throws IOException {
        List<X509Certificate> anchors = new java.util.ArrayList<>(AgentTls.readTrustAnchors(data.resolve("ca")
                .resolve("chain.pem")));
        if (mosquitto != null) {
            anchors.add(mosquitto.certificate());
        }
        return anchors;
    }

    String adminToken() {
        return adminToken;
    }

    Path data() {
        return data;
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            stopBroker();
        }
    }

    private void stopBroker() {
        if (mosquitto != null) {
            try {
                mosquitto.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        new SecureRandom().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
