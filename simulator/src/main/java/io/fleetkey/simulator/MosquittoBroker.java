package io.fleetkey.simulator;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.fleetkey.agent.DeviceKeyType;
import io.fleetkey.agent.KeyFiles;
import io.fleetkey.protocol.BouncyCastle;
import io.fleetkey.protocol.Certificates;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A Mosquitto broker (Debian's {@code mosquitto}) that the simulator runs as the external broker
 * of an in-process server, so that a storm can rehearse a broker restart. It is a rehearsal
 * broker, not a production set-up (docs/mqtt-broker.md has that). Three TLS listeners on
 * loopback share one self-signed certificate:
 * <ul>
 * <li>the server logs in with a password of this run and may use every Fleetkey topic;</li>
 * <li>devices with a Fleetkey certificate present it, and its CN (the device id) is their user
 * name, as in the documented production set-up;</li>
 * <li>devices without one (first boot with a token) log in by device id without a password, as
 * the agent does, and may use only that id's topics. A device could claim another's id there,
 * so the server authenticates every request by its CSR (token or signed statement), as it
 * does with any external broker.</li>
 * </ul>
 * The broker has no CRL: a revoked device still gets in, and the server refuses its request.
 */
final class MosquittoBroker implements FleetStorm.Restartable {
    static final String SERVER_USER = "fleetkey-server";

    private final Path dir;
    private final Path config;
    private final Path log;
    private final int serverPort;
    private final int port;
    private final int certifiedPort;
    private final Path passwords;
    private final String serverPassword;
    private final X509Certificate certificate;
    private Process process;

    private MosquittoBroker(Path dir, Path passwords, int serverPort, int port, int certifiedPort, String serverPassword,
                            X509Certificate certificate) {
        this.dir = dir;
        this.config = dir.resolve("mosquitto.conf");
        this.log = dir.resolve("mosquitto.log");
        this.passwords = passwords;
        this.serverPort = serverPort;
        this.port = port;
        this.certifiedPort = certifiedPort;
        this.serverPassword = serverPassword;
        this.certificate = certificate;
    }

    /** Where Debian puts the broker, or nothing when it is not installed. */
    static Optional<Path> findBinary() {
        return find("mosquitto");
    }

    /** Debian's mosquitto package has the broker in /usr/sbin and mosquitto_passwd in /usr/bin. */
    private static Optional<Path> find(String program) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
            Path binary = Path.of(dir, program);
            if (Files.isExecutable(binary)) {
                return Optional.of(binary);
            }
        }
        return Optional.empty();
    }

    /**
     * Writes the broker's certificate, password file and ACLs into {@code dir} and picks its ports;
     * {@link #start} follows once the server's CA exists.
     */
    static MosquittoBroker prepare(Path dir) throws IOException {
        if (findBinary().isEmpty()) {
            throw new IOException("mosquitto is not installed (Debian: apt-get install mosquitto)");
        }
        Files.createDirectories(dir);
        int serverPort = freePort();
        int port = freePort();
        int certifiedPort = freePort();
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String password = HexFormat.of().formatHex(random);
        KeyPair keys = KeyFiles.generateKeyPair(DeviceKeyType.P256);
        X509Certificate certificate = selfSigned(keys);
        Files.writeString(dir.resolve("broker.pem"), Certificates.toPem(List.of(certificate)));
        KeyFiles.writePrivateKey(dir.resolve("broker.key"), keys.getPrivate());
        Path passwords = dir.resolve("passwords");
        Files.writeString(passwords, "");
        Path passwd = find("mosquitto_passwd").orElseThrow(() -> new IOException(
                "mosquitto_passwd is missing (Debian: apt-get install mosquitto)"));
        run(dir, List.of(passwd.toString(), "-b", passwords.toString(), SERVER_USER, password));
        Files.writeString(dir.resolve("server.acl"), "user " + SERVER_USER + "\ntopic readwrite fleetkey/#\n");
        Files.writeString(dir.resolve("devices.acl"), String.join("\n",
                "pattern write fleetkey/v1/est/%u/+/req/+",
                "pattern read fleetkey/v1/est/%u/+/res/#",
                "pattern read fleetkey/v1/dev/%u/#",
                ""));
        return new MosquittoBroker(dir, passwords, serverPort, port, certifiedPort, password, certificate);
    }

    /** Writes the configuration, with the Fleetkey CA chain that device certificates must chain to, and starts. */
    void start(Path fleetkeyChain) throws IOException {
        boolean root = "root".equals(System.getProperty("user.name"));
        Files.writeString(config, String.join("\n",
                root ? "user root" : "# runs as the user who started the simulator",
                "persistence false",
                "log_dest file " + log,
                "log_type error",
                "log_type warning",
                "log_type notice",
                "per_listener_settings true",
                "set_tcp_nodelay true",
                "max_queued_messages 10000",
                listener("The Fleetkey server", serverPort, "allow_anonymous false", "password_file " + passwords,
                        "acl_file " + dir.resolve("server.acl")),
                listener("Devices: user name = device id, no password", port, "allow_anonymous true",
                        "acl_file " + dir.resolve("devices.acl")),
                listener("Devices with their Fleetkey certificate: its CN is the user name", certifiedPort,
                        "cafile " + fleetkeyChain, "require_certificate true", "use_identity_as_username true",
                        "acl_file " + dir.resolve("devices.acl"))));
        startAgain();
    }

    /** One TLS listener on loopback with the broker's certificate, and its own settings. */
    private String listener(String comment, int listenerPort, String... settings) {
        return String.join("\n", "", "# " + comment, "listener " + listenerPort + " 127.0.0.1",
                "certfile " + dir.resolve("broker.pem"), "keyfile " + dir.resolve("broker.key"),
                String.join("\n", settings), "");
    }

    /** The server's settings that point it at this broker instead of its embedded one. */
    Map<String, Object> serverSettings() {
        return Map.of("fleetkey.mqtt.broker.url", "ssl://127.0.0.1:" + serverPort,
                "fleetkey.mqtt.broker.ca-file", dir.resolve("broker.pem").toString(),
                "fleetkey.mqtt.broker.username", SERVER_USER,
                "fleetkey.mqtt.broker.password", serverPassword);
    }

    /** Where devices without a certificate connect. */
    URI uri() {
        return URI.create("ssl://127.0.0.1:" + port);
    }

    /** Where devices with their Fleetkey certificate connect. */
    URI certifiedUri() {
        return URI.create("ssl://127.0.0.1:" + certifiedPort);
    }

    /** The broker's self-signed certificate: devices trust it next to the Fleetkey CA. */
    X509Certificate certificate() {
        return certificate;
    }

    @Override
    public String what() {
        return "MQTT broker";
    }

    /** Starts the broker (again) on the same port and files; returns once the port accepts connections. */
    @Override
    public synchronized void startAgain() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        Path binary = findBinary().orElseThrow(() -> new IOException("mosquitto is not installed"));
        process = new ProcessBuilder(binary.toString(), "-c", config.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("mosquitto exited with status " + process.exitValue() + "; its log: "
                        + tail());
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while mosquitto started", e);
                }
            }
        }
        throw new IOException("mosquitto did not open port " + port + " within 15 s; its log: " + tail());
    }

    /** Stops the broker: every connection drops, and (without persistence) it forgets sessions and retained messages. */
    @Override
    public synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of("(no log)");
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static X509Certificate selfSigned(KeyPair keys) throws IOException {
        X500Name name = new X500Name("CN=Fleetkey simulator broker");
        Instant now = Instant.now();
        try {
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(Duration.ofDays(30))), name, keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
            return new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BouncyCastle.PROVIDER).build(keys.getPrivate())));
        } catch (OperatorCreationException | java.security.GeneralSecurityException e) {
            throw new IOException("cannot make the broker's certificate: " + e.getMessage(), e);
        }
    }

    private static void run(Path dir, List<String> command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(command.get(0) + " failed: " + output.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
