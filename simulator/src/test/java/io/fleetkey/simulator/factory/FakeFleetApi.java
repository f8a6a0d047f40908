package io.fleetkey.simulator.factory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fleetkey.protocol.Certificates;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A stand-in for the fleet API's group and device calls, on the JDK's HTTPS server: the same
 * paths, JSON shapes and statuses as the server's GroupController and DeviceController (maker
 * CAs shown only as summaries, PATCH lists replace, bulk registration all or none with 409).
 * It checks the requests the factory builds; the real server is the integration test's job.
 */
final class FakeFleetApi implements AutoCloseable {
    static final String TOKEN = "admin-token-for-tests";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, List<String>> makerCas = new ConcurrentHashMap<>();
    final Map<String, List<String>> makerCrls = new ConcurrentHashMap<>();
    final Map<String, String> deviceGroups = new ConcurrentHashMap<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    private final HttpsServer server;
    private final X509Certificate certificate;

    FakeFleetApi() throws Exception {
        KeyPair keys = KeyType.P256.generate();
        X500Name name = new X500Name("CN=fake fleet API");
        certificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                BigInteger.TEN, Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plus(Duration.ofDays(1))),
                name, keys.getPublic())
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("tls", keys.getPrivate(), "x".toCharArray(), new Certificate[]{certificate});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "x".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/api/v1/", this::handle);
        server.start();
    }

    String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    String certificatePem() {
        return Certificates.toPem(List.of(certificate));
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            calls.add(method + " " + path);
            if (!("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                answer(exchange, 401, error("UNAUTHORIZED", "no valid API token"));
                return;
            }
            JsonNode body = method.equals("GET") ? null : JSON.readTree(exchange.getRequestBody().readAllBytes());
            if (method.equals("POST") && path.equals("/api/v1/groups")) {
                String name = body.path("name").asText();
                if (makerCas.containsKey(name)) {
                    answer(exchange, 409, error("CONFLICT", "group '" + name + "' already exists"));
                    return;
                }
                makerCas.put(name, texts(body.path("makerCas")));
                answer(exchange, 201, groupView(name));
            } else if (path.startsWith("/api/v1/groups/")) {
                String name = path.substring("/api/v1/groups/".length());
                if (!makerCas.containsKey(name)) {
                    answer(exchange, 404, error("NOT_FOUND", "no group '" + name + "'"));
                    return;
                }
                if (method.equals("PATCH")) {
                    if (body.has("makerCas")) {
                        makerCas.put(name, texts(body.path("makerCas")));
                    }
                    if (body.has("makerCrls")) {
                        makerCrls.put(name, texts(body.path("makerCrls")));
                    }
                }
                answer(exchange, 200, groupView(name));
            } else if (method.equals("POST") && path.equals("/api/v1/devices/bulk")) {
                String group = body.path("group").asText();
                List<String> ids = texts(body.path("deviceIds"));
                List<String> existing = ids.stream().filter(deviceGroups::containsKey).limit(10).toList();
                if (!existing.isEmpty()) {
                    answer(exchange, 409, error("CONFLICT", "already registered: " + existing + "; nothing was registered"));
                    return;
                }
                List<Map<String, Object>> devices = new ArrayList<>();
                for (String id : ids) {
                    deviceGroups.put(id, group);
                    devices.add(Map.of("deviceId", id, "group", group, "enrollmentToken", "tok-" + id,
                            "tokenExpiresAt", Instant.now().toString()));
                }
                answer(exchange, 201, Map.of("registered", ids.size(), "devices", devices));
            } else if (method.equals("GET") && path.equals("/api/v1/devices")) {
                Map<String, String> query = query(exchange.getRequestURI());
                int page = Integer.parseInt(query.get("page"));
                int size = Integer.parseInt(query.get("size"));
                List<Map<String, Object>> matching = deviceGroups.entrySet().stream()
                        .filter(e -> e.getValue().equals(query.get("group")))
                        .filter(e -> e.getKey().startsWith(query.getOrDefault("idPrefix", "")))
                        .sorted(Map.Entry.comparingByKey())
                        .map(e -> Map.<String, Object>of("deviceId", e.getKey(), "group", e.getValue(),
                                "status", "REGISTERED"))
                        .toList();
                List<Map<String, Object>> items = matching.subList(Math.min(matching.size(), page * size),
                        Math.min(matching.size(), (page + 1) * size));
                answer(exchange, 200, Map.of("items", items, "page", page, "size", size, "total", matching.size()));
            } else {
                answer(exchange, 404, error("NOT_FOUND", "no such call"));
            }
        }
    }

    private Map<String, Object> groupView(String name) {
        List<Map<String, Object>> summaries = new ArrayList<>();
        for (String pem : makerCas.get(name)) {
            X509Certificate ca = Certificates.fromPem(pem).get(0);
            summaries.add(Map.of("subject", ca.getSubjectX500Principal().getName(), "sha256",
                    MakerRegistration.sha256(ca), "notAfter", ca.getNotAfter().toInstant().toString()));
        }
        List<Map<String, Object>> crls = new ArrayList<>();
        for (String pem : makerCrls.getOrDefault(name, List.of())) {
            try {
                X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                        .generateCRL(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
                crls.add(Map.of("issuer", crl.getIssuerX500Principal().getName(),
                        "thisUpdate", crl.getThisUpdate().toInstant().toString(),
                        "nextUpdate", crl.getNextUpdate().toInstant().toString(),
                        "revoked", crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size()));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(e);
            }
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", name);
        view.put("profile", "device");
        view.put("makerCas", summaries);
        view.put("makerCrls", crls);
        return view;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> query = new HashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            String[] kv = pair.split("=", 2);
            query.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        return query;
    }

    private static Map<String, Object> error(String kind, String message) {
        return Map.of("error", kind, "message", message);
    }

    private static void answer(HttpExchange exchange, int status, Object body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        JSON.writeValue(bytes, body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.size());
        try (OutputStream out = exchange.getResponseBody()) {
            bytes.writeTo(out);
        }
    }
}
