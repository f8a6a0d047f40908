package io.fleetkey.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * The fleet API over HTTPS with a bearer token, trusting only the certificates of one CA chain
 * file. Turns every way a call can fail into a {@link CliFailure} that says what to do.
 */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** For calls that change many devices in one transaction: a bulk registration, a revocation by filter. */
    private static final Duration BATCH_TIMEOUT = Duration.ofMinutes(5);
    private static final List<String> BATCH_PATHS = List.of("/devices/bulk", "/revocations");

    /** The message the server's framework answers for a path it has no route for. */
    private static final String ROUTE_MISSING = "Page Not Found";

    /** An answer of the server to one request: its status, its body as text and as JSON (missing when not JSON). */
    record Response(String method, String path, int status, String body, JsonNode json) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    private final URI server;
    private final Path cacert;
    private final String token;
    private final PrintStream trace;
    private final HttpClient http;

    /** @param trace where to print each request ({@code --debug}), or null */
    ApiClient(URI server, Path cacert, String token, PrintStream trace) {
        this.server = server;
        this.cacert = cacert;
        this.token = token;
        this.trace = trace;
        this.http = HttpClient.newBuilder().sslContext(trusting(cacert)).connectTimeout(CONNECT_TIMEOUT).build();
    }

    /** A TLS context whose only trust anchors are the certificates in the PEM file. */
    private static SSLContext trusting(Path cacert) {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(cacert)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException | GeneralSecurityException e) {
            throw new CliFailure(FleetkeyCli.USAGE, "--cacert " + cacert + " is not a PEM file of certificates ("
                    + e.getMessage() + "); pass the server's data/ca/chain.pem", e);
        }
        if (certificates.isEmpty()) {
            throw new CliFailure(FleetkeyCli.USAGE, "--cacert " + cacert + " holds no certificate; pass the "
                    + "server's data/ca/chain.pem");
        }
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (Certificate c : certificates) {
                anchors.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(anchors);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS with the JDK's providers", e);
        }
    }

    URI server() {
        return server;
    }

    /** GET, and the JSON of a 2xx answer; anything else is a {@link CliFailure}. */
    JsonNode get(String path) {
        return expectOk(call("GET", path, null));
    }

    /** POST with a JSON body (null for none), and the JSON of a 2xx answer. */
    JsonNode post(String path, Object body) {
        return expectOk(call("POST", path, body));
    }

    /** One call; fails only when the server cannot be reached. The caller judges the status. */
    Response call(String method, String path, Object body) {
        URI uri = URI.create(server + "/api/v1" + path);
        Duration timeout = BATCH_PATHS.contains(path) ? BATCH_TIMEOUT : REQUEST_TIMEOUT;
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Authorization", "Bearer " + token).header("Accept", "application/json");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            try {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        if (trace != null) {
            trace.println("> " + method + " " + uri);
        }
        HttpResponse<String> answer;
        try {
            answer = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw unreachable(e, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(FleetkeyCli.UNREACHABLE, "interrupted while waiting for " + server, e);
        }
        if (trace != null) {
            trace.println("< " + answer.statusCode());
        }
        return new Response(method, "/api/v1" + path.replaceFirst("\\?.*", ""), answer.statusCode(), answer.body(),
                parse(answer.body()));
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return MissingNode.getInstance();
        }
    }

    /** The JSON of a 2xx answer, or the server's own reason as a {@link CliFailure}. */
    JsonNode expectOk(Response r) {
        if (r.ok()) {
            return r.json();
        }
        throw refused(r);
    }

    /** What the user reads when the server says no: its message, and what to do about a refused token. */
    CliFailure refused(Response r) {
        String message = r.json().path("message").asText("");
        if (message.isEmpty()) {
            message = r.body() == null || r.body().isBlank() ? "no reason given" : r.body().strip();
        }
        if (r.status() == 401) {
            return new CliFailure(FleetkeyCli.REFUSED, "the API token was refused (" + message + "); set "
                    + FleetkeyCli.TOKEN_ENV + " or --token-file to a valid fleet API token");
        }
        String error = r.json().path("error").asText("");
        String status = "HTTP " + r.status() + (error.isEmpty() ? "" : " " + error);
        if (r.status() == 404 && ROUTE_MISSING.equals(message)) {
            return new CliFailure(FleetkeyCli.REFUSED, "the server at " + server + " has no " + r.method() + " "
                    + r.path() + " (" + status + "); is it an older Fleetkey, or is --server another service?");
        }
        if (r.status() >= 500) {
            return new CliFailure(FleetkeyCli.REFUSED, "the server failed (" + status + "): " + message);
        }
        return new CliFailure(FleetkeyCli.REFUSED, message + " (" + status + ")");
    }

    private CliFailure unreachable(IOException e, Duration timeout) {
        SSLException tls = cause(e, SSLException.class);
        if (tls != null) {
            return new CliFailure(FleetkeyCli.UNREACHABLE, "TLS with " + server + " failed: " + tls.getMessage()
                    + "; is --cacert " + cacert + " the CA chain of this server (its data/ca/chain.pem), and is "
                    + server.getHost() + " one of the server's FLEETKEY_TLS_HOSTNAMES?", e);
        }
        String why;
        if (e instanceof HttpConnectTimeoutException) {
            why = "no answer within " + CONNECT_TIMEOUT.toSeconds() + " s";
        } else if (e instanceof HttpTimeoutException) {
            return new CliFailure(FleetkeyCli.UNREACHABLE, "the server " + server + " did not answer within "
                    + timeout.toSeconds() + " s; its log may say why", e);
        } else if (cause(e, UnresolvedAddressException.class) != null || cause(e, UnknownHostException.class) != null) {
            why = "unknown host " + server.getHost();
        } else if (cause(e, ConnectException.class) != null) {
            why = "connection refused";
        } else {
            why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new CliFailure(FleetkeyCli.UNREACHABLE, "cannot reach " + server + ": " + why
                + "; is the server running? set --server or " + FleetkeyCli.SERVER_ENV, e);
    }

    private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** A path segment, percent-encoded. */
    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** {@code ?a=1&b=2} of the given parameters, leaving out null values; "" when none is left. */
    static String query(Map<String, ?> parameters) {
        StringJoiner q = new StringJoiner("&", "?", "");
        q.setEmptyValue("");
        parameters.forEach((name, value) -> {
            if (value != null) {
                q.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
            }
        });
        return q.toString();
    }

    /** A map that keeps its order and accepts nulls, for {@link #query}. */
    static Map<String, Object> parameters(Object... namesAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }
}
