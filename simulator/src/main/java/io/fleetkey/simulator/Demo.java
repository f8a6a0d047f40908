package io.fleetkey.simulator;

import java.io.IOException;
import java.io.PrintStream;
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
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.RunReport;
import io.fleetkey.simulator.report.TextSummary;

/**
 * {@code fleetkey-simulator demo}: a first look in one command. Starts a Fleetkey server inside
 * this process on embedded defaults (H2, the embedded MQTT broker, all three doors on free
 * loopback ports, a fresh data folder), then a small fleet: every device enrolls on its door,
 * renews, and one device per door is revoked and shown to be turned away. Ends with the report.
 * <p>
 * The server is loaded from its own jar in a class loader of its own, so its libraries and the
 * agent's never meet on one class path.
 */
final class Demo {
    static final int DEVICES = 30;
    private static final String SERVER_JAR = "fleetkey-server.jar";

    private final PrintStream out;

    Demo(PrintStream out) {
        this.out = out;
    }

    /** Where the server jar is: the option, else server/target under the working folder, else beside this jar's module. */
    static Optional<Path> findServerJar(Optional<String> option) {
        if (option.isPresent()) {
            return Optional.of(Path.of(option.get())).filter(Files::isRegularFile);
        }
        Path fromHere = Path.of("server", "target", SERVER_JAR);
        if (Files.isRegularFile(fromHere)) {
            return Optional.of(fromHere);
        }
        try {
            Path ownJar = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // simulator/target/fleetkey-simulator.jar -> server/target/fleetkey-server.jar
            Path sibling = ownJar.getParent().getParent().getParent().resolve("server").resolve("target").resolve(SERVER_JAR);
            return Optional.of(sibling).filter(Files::isRegularFile);
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Runs the demo; the report goes to {@code reportDir}. */
    RunReport run(Path serverJar, Path reportDir) throws Exception {
        Path data = Files.createTempDirectory("fleetkey-demo-");
        int https = freeTcpPort();
        int coaps = freeUdpPort();
        int mqtts = freeTcpPort();
        String adminToken = randomHex(24);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("fleetkey.data-dir", data.toString());
        settings.put("fleetkey.admin-token", adminToken);
        settings.put("fleetkey.ca.password", randomHex(16));
        settings.put("micronaut.server.ssl.port", https);
        settings.put("fleetkey.public-base-url", "https://localhost:" + https);
        settings.put("fleetkey.coaps.port", coaps);
        settings.put("fleetkey.coaps.bind-address", "127.0.0.1");
        settings.put("fleetkey.mqtt.embedded.port", freeTcpPort());
        settings.put("fleetkey.mqtt.embedded.tls-port", mqtts);
        settings.put("fleetkey.mqtt.embedded.tls-bind-address", "127.0.0.1");
        settings.put("logger.levels.io.fleetkey", "WARN"); // the demo tells the story; the server's log would drown it

        out.println("Starting a Fleetkey server in this process from " + serverJar + " (data in " + data + ")...");
        long start = System.nanoTime();
        try (URLClassLoader loader = new URLClassLoader(new URL[]{serverJar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
             AutoCloseable server = startServer(loader, settings)) {
            out.printf(java.util.Locale.ROOT, "Server up in %.1f s: HTTPS https://localhost:%d, CoAP coaps://127.0.0.1:%d, "
                    + "MQTT ssl://127.0.0.1:%d%n", (System.nanoTime() - start) / 1e9, https, coaps, mqtts);
            List<X509Certificate> anchors = AgentTls.readTrustAnchors(data.resolve("ca").resolve("chain.pem"));
            FleetStorm.Settings storm = new FleetStorm.Settings(new FleetStorm.Doors(URI.create("https://localhost:" + https),
                    URI.create("coaps://127.0.0.1:" + coaps), URI.create("ssl://127.0.0.1:" + mqtts)), anchors, adminToken,
                    DEVICES, 6, DoorMix.parse("https=1,coap=1,mqtt=1"), 0, true, 3.0 / DEVICES, "demo",
                    Duration.ofMinutes(5), Duration.ZERO, null);
            out.printf("%d devices, a third on each door: first boot with one-time tokens, a renewal each, then one "
                    + "device per door revoked%n", DEVICES);
            RunReport report = new FleetStorm(storm, out, false, true).run();
            out.print(TextSummary.format(report));
            out.println("Report written to " + ReportFiles.write(reportDir, report) + "; open report.html in a browser");
            out.println("Stopping the server; its data stays in " + data);
            return report;
        }
    }

    private static AutoCloseable startServer(ClassLoader loader, Map<String, Object> settings) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return (AutoCloseable) loader.loadClass("io.fleetkey.server.Application").getMethod("start", Map.class)
                    .invoke(null, settings);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new IOException("the server did not start: " + cause, cause);
        } finally {
            thread.setContextClassLoader(previous);
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
