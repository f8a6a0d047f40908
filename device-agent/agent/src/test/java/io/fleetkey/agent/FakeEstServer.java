package io.fleetkey.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.fleetkey.protocol.Base64Body;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A small EST server on the JDK's HttpsServer, speaking Fleetkey's dialect: one-time tokens
 * in the CSR's challengePassword, renewal by client certificate, refusals as text with Fleetkey-Error.
 * A canned answer per operation replaces the default behaviour for failure scenarios.
 */
final class FakeEstServer implements AutoCloseable {
    /** A fixed answer, optionally after a delay. */
    record Canned(int status, Map<String, String> headers, byte[] body, long delayMillis) {
        static Canned of(int status, Map<String, String> headers, String body) {
            return new Canned(status, headers, body.getBytes(StandardCharsets.UTF_8), 0);
        }
    }

    /** What {@code GET /.well-known/est/nonce} answers. */
    static final String NONCE = "bm9uY2Utb2YtdGhlLWZha2U";

    final TestPki pki;
    private final HttpsServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final Map<String, X509Certificate> spentTokens = new ConcurrentHashMap<>();
    private final Map<EstOperation, Canned> canned = new ConcurrentHashMap<>();
    /** SubjectPublicKeyInfo of every CSR received, in order. */
    final List<byte[]> receivedKeys = new CopyOnWriteArrayList<>();

    FakeEstServer(TestPki pki) throws Exception {
        this.pki = pki;
        KeyPair serverKeys = TestPki.newKeyPair();
        X509Certificate serverCertificate = pki.issueServer(serverKeys.getPublic(), "localhost", "127.0.0.1");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        char[] password = "test".toCharArray();
        keys.setKeyEntry("server", serverKeys.getPrivate(), password,
                new X509Certificate[]{serverCertificate, pki.issuing});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
        keyManagers.init(keys, password);
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("root", pki.root);
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(anchors);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);

        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
                parameters.setWantClientAuth(true);
                params.setSSLParameters(parameters);
            }
        });
        server.createContext(EstOperation.WELL_KNOWN_PREFIX, this::handle);
        server.setExecutor(executor);
        server.start();
    }

    URI uri() {
        return URI.create("https://localhost:" + server.getAddress().getPort());
    }

    /** Registers a device with its one-time token. */
    FakeEstServer register(String deviceId, String token) {
        tokens.put(deviceId, token);
        return this;
    }

    /** Answers every request for the operation with this instead. */
    FakeEstServer answer(EstOperation operation, Canned answer) {
        canned.put(operation, answer);
        return this;
    }

    FakeEstServer answerNormally(EstOperation operation) {
        canned.remove(operation);
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String path = exchange.getRequestURI().getPath();
            EstOperation operation = null;
            for (EstOperation candidate : EstOperation.values()) {
                if (path.equals(candidate.httpPath())) {
                    operation = candidate;
                }
            }
            if (operation == null && path.equals(EstOperation.WELL_KNOWN_PREFIX + "/" + EstOperation.NONCE)) {
                send(exchange, Canned.of(200, Map.of("Content-Type", EstMediaTypes.ATTESTATION_FRESHNESS_JSON),
                        "{\"nonce\":\"" + NONCE + "\",\"expiry\":600}"));
                return;
            }
            if (operation == null) {
                send(exchange, Canned.of(404, Map.of(), "no such resource"));
                return;
            }
            if (operation == EstOperation.SIMPLE_ENROLL || operation == EstOperation.SIMPLE_REENROLL) {
                byte[] csr = Base64Body.decode(new String(body, StandardCharsets.US_ASCII));
                receivedKeys.add(new PKCS10CertificationRequest(csr).getSubjectPublicKeyInfo().getEncoded());
            }
            Canned fixed = canned.get(operation);
            if (fixed != null) {
                if (fixed.delayMillis() > 0) {
                    Thread.sleep(fixed.delayMillis());
                }
                send(exchange, fixed);
                return;
            }
            switch (operation) {
                case CA_CERTIFICATES -> sendPkcs7(exchange, pki.caCertificates());
                case SIMPLE_ENROLL -> enroll(exchange, body);
                case SIMPLE_REENROLL -> reenroll(exchange, body);
                default -> send(exchange, Canned.of(404, Map.of(), "not served"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            e.printStackTrace();
            send(exchange, Canned.of(500, Map.of(), e.toString()));
        }
    }

    private void enroll(HttpExchange exchange, byte[] body) throws IOException {
        byte[] csr = Base64Body.decode(new String(body, StandardCharsets.US_ASCII));
        byte[] key = new PKCS10CertificationRequest(csr).getSubjectPublicKeyInfo().getEncoded();
        // Fleetkey's way on every door: the one-time token in the CSR's challengePassword (RFC 2985 §5.4.1).
        PKCS10CertificationRequest request = new PKCS10CertificationRequest(csr);
        String deviceId = IETFUtils.valueToString(request.getSubject().getRDNs(BCStyle.CN)[0].getFirst().getValue());
        Attribute[] passwords = request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        String token = passwords.length == 1 ? ((ASN1String) passwords[0].getAttrValues().getObjectAt(0)).getString() : null;
        if (token == null || !token.equals(tokens.get(deviceId))) {
            refuse(exchange, 401, FailureCode.NOT_AUTHENTICATED, "the enrollment token is not valid");
            return;
        }
        String[] credentials = {deviceId, token};
        X509Certificate earlier = spentTokens.get(credentials[0]);
        if (earlier != null) {
            if (java.util.Arrays.equals(earlier.getPublicKey().getEncoded(), key)) {
                sendPkcs7(exchange, List.of(earlier));
            } else {
                refuse(exchange, 403, FailureCode.TOKEN_USED, "the enrollment token was already used");
            }
            return;
        }
        X509Certificate issued = pki.issueFor(csr);
        spentTokens.put(credentials[0], issued);
        sendPkcs7(exchange, List.of(issued));
    }

    private void reenroll(HttpExchange exchange, byte[] body) throws IOException {
        byte[] csr = Base64Body.decode(new String(body, StandardCharsets.US_ASCII));
        X509Certificate client;
        try {
            client = (X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0];
        } catch (SSLPeerUnverifiedException e) {
            refuse(exchange, 401, FailureCode.NOT_AUTHENTICATED, "re-enrollment needs the current certificate");
            return;
        }
        if (!client.getIssuerX500Principal().equals(pki.issuing.getSubjectX500Principal())) {
            refuse(exchange, 401, FailureCode.UNTRUSTED_CLIENT_CERTIFICATE, "not one of ours");
            return;
        }
        sendPkcs7(exchange, List.of(pki.issueFor(csr)));
    }

    private static void refuse(HttpExchange exchange, int status, FailureCode code, String reason) throws IOException {
        send(exchange, Canned.of(status, Map.of("Content-Type", "text/plain", "Fleetkey-Error", code.name()),
                reason + "\n"));
    }

    private static void sendPkcs7(HttpExchange exchange, List<X509Certificate> certificates) throws IOException {
        send(exchange, Canned.of(200, Map.of("Content-Type", EstMediaTypes.PKCS7_CERTS_ONLY,
                "Content-Transfer-Encoding", "base64"), Base64Body.encode(Certificates.toPkcs7CertsOnly(certificates))));
    }

    private static void send(HttpExchange exchange, Canned answer) throws IOException {
        answer.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
        exchange.sendResponseHeaders(answer.status(), answer.body().length == 0 ? -1 : answer.body().length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer.body());
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
