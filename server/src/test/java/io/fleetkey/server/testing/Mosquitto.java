package io.fleetkey.server.testing;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.fail;

/**
 * A real Mosquitto broker (Debian's {@code mosquitto}) started by a test from a configuration
 * file, on a port of its own; its log lands next to the configuration.
 */
public final class Mosquitto implements AutoCloseable {
    private final Path config;
    private final Path log;
    private final int port;
    private Process process;

    private Mosquitto(Path config, int port) {
        this.config = config;
        this.log = config.resolveSibling("mosquitto.log");
        this.port = port;
    }

    /** Skips the test outside CI when Mosquitto is missing; in CI a missing broker is a failure. */
    public static void require() {
        boolean installed = false;
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin")) {
            installed |= Files.isExecutable(Path.of(dir, "mosquitto"));
        }
        if (!installed && System.getenv("CI") == null) {
            Assumptions.abort("mosquitto is not installed (Debian: apt-get install mosquitto); skipped outside CI");
        }
        if (!installed) {
            fail("mosquitto is required in CI (Debian: apt-get install mosquitto)");
        }
    }

    /** Skips the test outside CI when mosquitto's clients are missing; in CI that is a failure. */
    public static void requireClients() {
        boolean installed = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            installed |= Files.isExecutable(Path.of(dir, "mosquitto_rr"));
        }
        if (!installed && System.getenv("CI") == null) {
            Assumptions.abort("mosquitto's clients are not installed (Debian: apt-get install mosquitto-clients); "
                    + "skipped outside CI");
        }
        if (!installed) {
            fail("mosquitto's clients are required in CI (Debian: apt-get install mosquitto-clients)");
        }
    }

    /** An answer as {@code mosquitto_sub -F '%t %x'} printed it. */
    public record Answer(String topic, byte[] payload) {
        public String status() {
            return topic.substring(topic.lastIndexOf('/') + 1);
        }
    }

    /**
     * One EST-over-MQTT request by hand. {@code mosquitto_rr} 2.0 cannot send a file, so
     * {@code mosquitto_sub} waits for the answer while {@code mosquitto_pub} sends the file, each
     * with its own client id under the device's ({@code id:sub}, {@code id:pub}). Until the
     * subscription is in place the request goes out again with a new request id, as a device
     * retries; the server gives the same answer to the same CSR.
     *
     * @param connection host, port, TLS and login options both tools take
     */
    public static Answer requestByHand(Path work, List<String> connection, String deviceId, String operation,
                                       String payloadFile) throws IOException, InterruptedException {
        Path out = work.resolve(deviceId + "." + operation + ".answer");
        Process sub = new ProcessBuilder(Processes.command("mosquitto_sub", connection, "-i", deviceId + ":sub",
                "-t", "fleetkey/v1/est/" + deviceId + "/" + operation + "/res/#", "-C", "1", "-W", "30",
                "-F", "%t %x")).directory(work.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int attempt = 1; sub.isAlive() && System.nanoTime() < deadline; attempt++) {
            Processes.ok(work, Processes.command("mosquitto_pub", connection, "-i", deviceId + ":pub",
                    "-t", "fleetkey/v1/est/" + deviceId + "/" + operation + "/req/r" + attempt, "-f", payloadFile));
            sub.waitFor(500, TimeUnit.MILLISECONDS);
        }
        if (sub.isAlive()) {
            sub.destroyForcibly();
            fail("mosquitto_sub got no answer: " + Files.readString(out));
        }
        String printed = Files.readString(out);
        String line = printed.lines().filter(l -> l.startsWith("fleetkey/")).findFirst()
                .orElseThrow(() -> new AssertionError("mosquitto_sub printed no answer: " + printed));
        int space = line.indexOf(' ');
        return new Answer(line.substring(0, space), HexFormat.of().parseHex(line.substring(space + 1).trim()));
    }

    /** Starts Mosquitto with this configuration and waits until its port accepts connections. */
    public static Mosquitto start(Path config, int port) {
        Mosquitto m = new Mosquitto(config, port);
        m.start();
        return m;
    }

    public void start() {
        try {
            String binary = Files.isExecutable(Path.of("/usr/sbin/mosquitto")) ? "/usr/sbin/mosquitto" : "mosquitto";
            // The configuration should say "log_dest file <next to it>/mosquitto.log": stdout is buffered.
            process = new ProcessBuilder(binary, "-c", config.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    fail("mosquitto exited " + process.exitValue() + ":\n" + log());
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return;
                } catch (IOException notYet) {
                    Thread.sleep(100);
                }
            }
            fail("mosquitto did not open port " + port + ":\n" + log());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start mosquitto: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops and starts the broker (Mosquitto 2.0 reads its CA file and CRL only at start). */
    public void restart() {
        stop();
        start();
    }

    public int port() {
        return port;
    }

    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return e.toString();
        }
    }

    public void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** For messages: where the log is. */
    public File logFile() {
        return log.toFile();
    }
}
