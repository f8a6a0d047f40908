package io.fleetkey.server.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.fleetkey.protocol.Base64Body;
import io.fleetkey.protocol.Certificates;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;

/**
 * A real Fleetkey server for a test class: its own data folder, a random HTTPS port, a known
 * admin token. Clients talk TLS to it and trust only its CA, as devices do.
 */
public final class TestServer implements AutoCloseable {
    public static final String ADMIN_TOKEN = "test-admin-token-0123456789";

    private final Path dataDir;
    private final EmbeddedServer server;
    private final List<X509Certificate> caChain;

    private TestServer(Path dataDir, EmbeddedServer server) {
        this.dataDir = dataDir;
        this.server = server;
        this.caChain = Certificates.fromPem(readChain(dataDir));
    }

    public static TestServer start() {
        return start(Map.of());
    }

    /** Starts with extra configuration properties on top of the test defaults. */
    public static TestServer start(Map<String, Object> extra) {
        try {
            return startIn(Files.createTempDirectory("fleetkey-test-"), extra);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts on a data folder that may hold a server's files already: the same CA, database and
     * TLS key as before a restart, or another node's CA copied in.
     */
    public static TestServer startIn(Path dataDir, Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>();
        props.put("fleetkey.data-dir", dataDir.toString());
        props.put("fleetkey.admin-token", ADMIN_TOKEN);
        props.put("fleetkey.public-base-url", "https://localhost:8443");
        props.put("micronaut.server.ssl.port", -1);
        props.put("fleetkey.coaps.port", 0);
        props.put("fleetkey.coaps.bind-address", "127.0.0.1");
        // The embedded MQTT broker takes 6-14 s to start: only for tests that ask (withMqtt()).
        props.put("fleetkey.mqtt.embedded.enabled", "false");
        props.putAll(extra);
        EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, props);
        return new TestServer(dataDir, server);
    }

    /**
     * Settings that turn the embedded MQTT broker on, on two free loopback ports. HiveMQ keeps
     * JVM-wide state: start at most one broker at a time, and share it across a test class.
     */
    public static Map<String, Object> withMqtt() {
        Map<String, Object> props = new HashMap<>();
        props.put("fleetkey.mqtt.embedded.enabled", "true");
        props.put("fleetkey.mqtt.embedded.port", freeTcpPort());
        props.put("fleetkey.mqtt.embedded.tls-port", freeTcpPort());
        props.put("fleetkey.mqtt.embedded.tls-bind-address", "127.0.0.1");
        return props;
    }

    private static int freeTcpPort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public ApplicationContext context() {
        return server.getApplicationContext();
    }

    public int port() {
        return server.getPort();
    }

    /** The UDP port of the EST-coaps door. */
    public int coapsPort() {
        return context().getBean(io.fleetkey.server.transport.coap.CoapsDoor.class).port();
    }

    /** The embedded broker's plain development listener (loopback). */
    public int mqttPort() {
        return context().getBean(io.fleetkey.server.transport.mqtt.EmbeddedBroker.class).port();
    }

    /** The embedded broker's TLS listener. */
    public int mqttsPort() {
        return context().getBean(io.fleetkey.server.transport.mqtt.EmbeddedBroker.class).tlsPort();
    }

    public URI uri(String path) {
        return URI.create("https://localhost:" + port() + path);
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Issuing CA first, root last. */
    public List<X509Certificate> caChain() {
        return caChain;
    }

    /** The CA chain as a PEM file, for openssl and curl. */
    public Path caChainPem() {
        return dataDir.resolve("ca").resolve("chain.pem");
    }

    @Override
    public void close() {
        server.getApplicationContext().close();
    }

    // ---- clients ---------------------------------------------------------------------------

    /** An HTTPS client trusting only this server's root, optionally presenting a client certificate. */
    public HttpClient client(KeyPair clientKeys, List<X509Certificate> clientChain) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", caChain.get(caChain.size() - 1));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (clientKeys != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", clientKeys.getPrivate(), "x".toCharArray(),
                        clientChain.toArray(Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, "x".toCharArray());
            }
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpClient client() {
        return client(null, List.of());
    }

    public HttpResponse<String> send(HttpClient client, HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * One scrape of {@code /prometheus} as admin: each sample of the text format, series (name and
     * labels as printed) to value.
     */
    public Map<String, Double> metrics() {
        HttpResponse<String> r = api("GET", "/prometheus", null);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("/prometheus answered " + r.statusCode() + ": " + r.body());
        }
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    /** Calls the fleet API as admin with a JSON body (null for GET). */
    public HttpResponse<String> api(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + ADMIN_TOKEN)
                .timeout(Duration.ofSeconds(30));
        if (json == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return send(client(), b.build());
    }

    public void createGroup(String name, String profile) {
        HttpResponse<String> r = api("POST", "/api/v1/groups", "{\"name\":\"" + name + "\",\"profile\":\"" + profile + "\"}");
        if (r.statusCode() != 201) {
            throw new IllegalStateException("group creation failed: " + r.statusCode() + " " + r.body());
        }
    }

    /** Registers a device and returns its one-time enrollment token. */
    public String registerDevice(String deviceId, String group) {
        HttpResponse<String> r = api("POST", "/api/v1/devices",
                "{\"deviceId\":\"" + deviceId + "\",\"group\":\"" + group + "\"}");
        if (r.statusCode() != 201) {
            throw new IllegalStateException("registration failed: " + r.statusCode() + " " + r.body());
        }
        return Json.field(r.body(), "enrollmentToken");
    }

    /** POSTs a DER CSR, base64-encoded as RFC 7030 wants, with optional HTTP Basic credentials. */
    public HttpResponse<String> est(HttpClient client, String operation, byte[] csrDer, String deviceId, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/.well-known/est/" + operation))
                .header("Content-Type", "application/pkcs10")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(Base64Body.encode(csrDer)));
        if (deviceId != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (deviceId + ":" + token).getBytes(StandardCharsets.UTF_8)));
        }
        return send(client, b.build());
    }

    /** The certificate of a successful EST answer (certs-only PKCS#7, base64). */
    public static X509Certificate issuedCertificate(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("expected 200, got " + response.statusCode() + ": " + response.body());
        }
        List<X509Certificate> certs = Certificates.fromPkcs7CertsOnly(Base64Body.decode(response.body()));
        return certs.get(0);
    }

    /** Client chain for mutual TLS: the leaf followed by this server's issuing CA. */
    public List<X509Certificate> withIssuingCa(X509Certificate leaf) {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(leaf);
        chain.add(caChain.get(0));
        return chain;
    }

    private static String readChain(Path dataDir) {
        try {
            return Files.readString(dataDir.resolve("ca").resolve("chain.pem"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
