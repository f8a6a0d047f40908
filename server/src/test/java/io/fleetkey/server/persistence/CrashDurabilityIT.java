package io.fleetkey.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.fleetkey.protocol.Base64Body;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate that left the server is in the registry even if the server is killed right
 * after answering: the packaged server runs as its own process on its H2 file, is killed with
 * SIGKILL straight after the last answer, started again, and asked for every certificate.
 */
class CrashDurabilityIT {
    private static final String ADMIN = "crash-durability-admin-token";
    private static final int DEVICES = 20;

    @TempDir
    Path dataDir;

    @Test
    void certificates_answered_before_a_kill_are_in_the_registry_after_restart() throws Exception {
        int port = freePort();
        Process server = start(port);
        List<String> serials = new ArrayList<>();
        try {
            HttpClient client = client();
            api(client, port, "/api/v1/groups", "{\"name\":\"crash\",\"profile\":\"device\"}");
            for (int i = 0; i < DEVICES; i++) {
                String id = "crash-" + i;
                String token = Json.field(api(client, port, "/api/v1/devices",
                        "{\"deviceId\":\"" + id + "\",\"group\":\"crash\"}").body(), "enrollmentToken");
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port
                                + "/.well-known/est/simpleenroll"))
                        .header("Content-Type", "application/pkcs10")
                        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                                (id + ":" + token).getBytes(StandardCharsets.UTF_8)))
                        .POST(HttpRequest.BodyPublishers.ofString(Base64Body.encode(TestPki.csr(id, TestPki.p256()))))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                serials.add(Certificates.fromPkcs7CertsOnly(Base64Body.decode(r.body())).get(0).getSerialNumber().toString(16));
            }
        } finally {
            server.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no close
        }
        Process again = start(port);
        try {
            HttpClient client = client();
            for (int i = 0; i < DEVICES; i++) {
                HttpResponse<String> detail = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port
                        + "/api/v1/devices/crash-" + i)).header("Authorization", "Bearer " + ADMIN).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(detail.statusCode()).as("device crash-%d after the kill: %s", i, detail.body()).isEqualTo(200);
                assertThat(Json.parse(detail.body()).path("certificates").toString())
                        .as("certificate %s of crash-%d after the kill", serials.get(i), i).contains(serials.get(i));
            }
        } finally {
            again.destroy();
            again.waitFor();
        }
    }

    private Process start(int port) throws Exception {
        Path jar = Path.of("target", "fleetkey-server.jar");
        assertThat(jar).as("the packaged server (mvn package)").exists();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString());
        pb.environment().put("FLEETKEY_DATA_DIR", dataDir.toString());
        pb.environment().put("FLEETKEY_HTTPS_PORT", Integer.toString(port));
        pb.environment().put("FLEETKEY_ADMIN_TOKEN", ADMIN);
        pb.environment().put("FLEETKEY_COAPS_PORT", "0");
        pb.environment().put("FLEETKEY_MQTT_EMBEDDED_ENABLED", "false");
        pb.redirectErrorStream(true).redirectOutput(dataDir.resolve("server-" + System.nanoTime() + ".log").toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("the server exited with " + p.exitValue());
            }
            if (Files.exists(dataDir.resolve("ca/chain.pem"))) {
                try {
                    if (client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/health")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                        return p;
                    }
                } catch (IOException notYet) {
                    // still starting
                }
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("the server did not become healthy in 90 s");
    }

    private HttpClient client() throws Exception {
        List<X509Certificate> chain = Certificates.fromPem(Files.readString(dataDir.resolve("ca/chain.pem")));
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", chain.get(chain.size() - 1));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> api(HttpClient client, int port, String path, String json) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
