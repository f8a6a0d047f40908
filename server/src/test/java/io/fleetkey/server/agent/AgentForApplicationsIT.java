package io.fleetkey.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.DeviceAgent;
import io.fleetkey.agent.DeviceEnroller;
import io.fleetkey.agent.DeviceIdentity;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.IdentityDirectory;
import io.fleetkey.agent.RenewalPolicy;
import io.fleetkey.agent.RevocationCheck;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as a POS terminal uses it: a payment backend that requires client certificates
 * accepts the agent's SSLContext before and after a renewal (the same object, no restart),
 * and a revocation the device learns from the CRL stops it presenting the certificate.
 * Certificates live 35 seconds here, so a renewal happens during the test.
 */
class AgentForApplicationsIT {
    /**
     * The profile's validity. The CA backdates notBefore by a minute for slow device clocks, so a
     * certificate's lifetime is this plus 60 s, and three quarters of it come about 11 s after issue.
     */
    private static final Duration LIFETIME = Duration.ofSeconds(35);
    private static final double RENEW_AT = 0.75;

    private static TestServer server;
    private static int port;
    private static List<X509Certificate> anchors;
    private static HttpsServer backend;

    @TempDir
    static Path temp;

    @BeforeAll
    static void start() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // A real port in the public base URL, so the certificates' CRL distribution point reaches this server.
        server = TestServer.start(Map.of("micronaut.server.ssl.port", port,
                "fleetkey.public-base-url", "https://localhost:" + port,
                "fleetkey.profiles.short.validity", LIFETIME.toSeconds() + "s",
                "fleetkey.profiles.short.extended-key-usages", "clientAuth"));
        anchors = server.caChain();
        assertThat(server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "pos", "profile", "short")))
                .statusCode()).isEqualTo(201);
        backend = startBackend();
    }

    @AfterAll
    static void stop() {
        if (backend != null) {
            backend.stop(0);
        }
        if (server != null) {
            server.close();
        }
    }

    /**
     * The payment backend: HTTPS that requires a client certificate from the Fleetkey CA and
     * answers with the serial of the one presented. Its own TLS certificate comes from the test
     * PKI; the POS side trusts it through the Fleetkey anchors plus that CA.
     */
    private static final TestPki.Ca BACKEND_CA = TestPki.ca("Backend CA");

    private static HttpsServer startBackend() throws Exception {
        KeyPair keys = TestPki.p256();
        X509Certificate cert = BACKEND_CA.issueServer("CN=localhost", keys, Duration.ofDays(1), "localhost");
        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, null);
        identity.setKeyEntry("backend", keys.getPrivate(), new char[0], new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(identity, new char[0]);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        for (int i = 0; i < anchors.size(); i++) {
            trusted.setCertificateEntry("fleetkey-" + i, anchors.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
                ssl.setNeedClientAuth(true);
                params.setSSLParameters(ssl);
            }
        });
        https.createContext("/pay", exchange -> {
            String serial;
            try {
                serial = ((X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0])
                        .getSerialNumber().toString(16);
            } catch (IOException e) {
                serial = "none";
            }
            byte[] body = serial.getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().add("Connection", "close");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        https.start();
        return https;
    }

    /** What the POS application does: one payment call over the agent's SSLContext, each on a new connection. */
    private static HttpResponse<String> pay(SSLContext context) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10)).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + backend.getAddress().getPort() + "/pay")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void a_backend_that_requires_client_certificates_accepts_the_same_context_before_and_after_a_renewal()
            throws Exception {
        String id = "pos-0001";
        String token = server.registerDevice(id, "pos");
        IdentityDirectory directory = new IdentityDirectory(temp.resolve(id));
        URI fleetkey = URI.create("https://localhost:" + port);
        DeviceIdentity first;
        try (IdentityDirectory.Lock lock = directory.lock()) {
            first = new DeviceEnroller(new EstHttpsClient(fleetkey, AgentTls.trusting(anchors)), anchors, directory)
                    .enroll(id, token);
        }
        // The agent's context trusts the Fleetkey anchors; the backend's CA is the POS application's business.
        List<X509Certificate> posTrust = new java.util.ArrayList<>(anchors);
        posTrust.add(BACKEND_CA.certificate());
        AtomicReference<DeviceAgent> agentRef = new AtomicReference<>();
        DeviceAgent.Renewal renewal = () -> new DeviceEnroller(new EstHttpsClient(fleetkey,
                AgentTls.trusting(anchors, () -> agentRef.get().identity().orElse(null))), anchors, directory).renew();
        RenewalPolicy policy = new RenewalPolicy(RENEW_AT, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(2));
        try (DeviceAgent agent = DeviceAgent.start(directory, posTrust, renewal, policy)) {
            agentRef.set(agent);
            SSLContext context = agent.sslContext();
            HttpResponse<String> before = pay(context);
            assertThat(before.statusCode()).isEqualTo(200);
            assertThat(before.body()).isEqualTo(first.serialHex());

            long deadline = System.nanoTime() + LIFETIME.toNanos();
            while (agent.identity().orElseThrow().serialHex().equals(first.serialHex())) {
                assertThat(System.nanoTime()).as("renewed before the first certificate ends").isLessThan(deadline);
                Thread.sleep(100);
            }
            DeviceIdentity second = agent.identity().orElseThrow();
            assertThat(agent.sslContext()).isSameAs(context);
            HttpResponse<String> after = pay(context);
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(after.body()).isEqualTo(second.serialHex());

            // Revoked by a fleet manager: the device learns it from the CRL and stops presenting the certificate.
            assertThat(server.api("POST", "/api/v1/devices/" + id + "/revoke",
                    Json.write(Map.of("reason", "keyCompromise"))).statusCode()).isEqualTo(200);
            RevocationCheck.Answer answer = agent.checkRevocation(new RevocationCheck(
                    HttpClient.newBuilder().sslContext(AgentTls.trusting(anchors)).build()));
            assertThat(answer).isInstanceOf(RevocationCheck.Answer.Revoked.class);
            assertThat(agent.status().state()).isEqualTo(DeviceAgent.State.REVOKED);
            assertThat(agent.identity()).isEmpty();
            try {
                HttpResponse<String> refused = pay(context);
                assertThat(refused.statusCode()).as("no client certificate, no payment").isNotEqualTo(200);
            } catch (IOException handshakeRefused) {
                // The backend ends the handshake without a client certificate: what a revoked device should see.
            }
        }
    }
}
