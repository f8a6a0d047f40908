package io.fleetkey.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLContext;

import io.fleetkey.protocol.Base64Body;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * An EST client over HTTPS (RFC 7030) on the JDK HttpClient. The server is authenticated
 * against the trust anchors of the given {@link SSLContext} (explicit TA, RFC 7030 §4.1.1);
 * a client certificate, when the context has one, authenticates re-enrollment (§3.3.2).
 * <p>
 * Thread-safe: one instance can serve many concurrent calls and keeps connections alive
 * between them. Every call is bounded by the connect timeout and the request timeout (the
 * whole exchange, body included). Answers larger than {@value #MAX_RESPONSE_BYTES} bytes are
 * refused. The enrollment token travels only inside the CSR and never appears in exceptions.
 */
public final class EstHttpsClient implements EstTransport {
    /** Largest answer read; EST answers hold a few certificates. Bounds memory on small devices. */
    public static final int MAX_RESPONSE_BYTES = 256 * 1024;
    /** Used when a 202 carries no usable Retry-After, which RFC 7030 §4.2.3 requires it to. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(60);
    private static final String CONTENT_TRANSFER_ENCODING = "Content-Transfer-Encoding";
    private static final String FAILURE_CODE_HEADER = "Fleetkey-Error";
    private static final String REASON_HEADER = "Fleetkey-Reason";

    /**
     * @param connect how long to wait for the TCP connection (the TLS handshake counts as request time)
     * @param request how long one exchange may take in all, handshake and body included
     */
    public record Timeouts(Duration connect, Duration request) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60));

        public Timeouts {
            if (connect.isNegative() || connect.isZero() || request.isNegative() || request.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }
    }

    private final String base;
    private final HttpClient http;
    private final Timeouts timeouts;

    /** A client with {@link Timeouts#DEFAULT}. */
    public EstHttpsClient(URI server, SSLContext tls) {
        this(server, tls, Timeouts.DEFAULT);
    }

    /**
     * @param server the server's base URI, e.g. {@code https://fleetkey.example.com:8443}; a path,
     *               if any, is kept as prefix of {@code /.well-known/est/...}
     * @param tls    trust anchors and, for re-enrollment, the device identity; see {@link AgentTls}
     * @throws IllegalArgumentException when the URI is not an absolute https URI
     */
    public EstHttpsClient(URI server, SSLContext tls, Timeouts timeouts) {
        this.base = baseOf(server);
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.http = HttpClient.newBuilder()
                .sslContext(Objects.requireNonNull(tls, "tls"))
                .connectTimeout(timeouts.connect())
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** The server base this client talks to, without trailing slash. */
    public String server() {
        return base;
    }

    @Override
    public String endpoint() {
        return base;
    }

    /** Nothing to release: the JDK 17 HttpClient frees its connections when it is collected. */
    @Override
    public void close() {
    }

    /**
     * RFC 7030 §4.1: the CA certificates the server wants clients to trust. The order carries no
     * meaning: a certs-only PKCS#7 holds a SET, and DER sorts it by encoding; build chains by
     * issuer name, as {@link IdentityDirectory} does.
     */
    @Override
    public List<X509Certificate> caCertificates() throws EstException, IOException, InterruptedException {
        HttpRequest request = newRequest(EstOperation.CA_CERTIFICATES)
                .header("Accept", EstMediaTypes.PKCS7_MIME)
                .GET().build();
        List<X509Certificate> certificates = certsOnly(exchange(request));
        if (certificates.isEmpty()) {
            throw new EstException(200, null, "the server's CA certificates answer holds no certificate");
        }
        return certificates;
    }

    /**
     * RFC 7030 §4.1 does not define it: the freshness nonce of draft-ietf-lamps-attestation-freshness,
     * {@code GET /.well-known/est/nonce}, answered with {@code {"nonce", "expiry"}} JSON.
     */
    @Override
    public FreshnessNonce nonce() throws EstException, IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + EstOperation.WELL_KNOWN_PREFIX + "/"
                        + EstOperation.NONCE)).timeout(timeouts.request())
                .header("Accept", EstMediaTypes.ATTESTATION_FRESHNESS_JSON + ", application/json")
                .GET().build();
        HttpResponse<byte[]> response = exchange(request);
        if (response.statusCode() != 200) {
            throw refusal(response);
        }
        try {
            return FreshnessNonce.fromJson(new String(response.body(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new EstException(200, null, e.getMessage());
        }
    }

    /**
     * RFC 7030 §4.2.1 simpleenroll. A device without a certificate authenticates with the one-time
     * token in the CSR's PKCS#9 {@code challengePassword} (RFC 2985 §5.4.1) over the
     * server-authenticated TLS session, as on every Fleetkey door; a device with a factory or
     * current certificate, by the client certificate of the context.
     *
     * @param csrDer DER PKCS#10 request whose CN is the device id
     * @return the issued certificate, the one that certifies the CSR's public key
     * @throws EstException                when the server refuses or answers with something unusable
     * @throws EnrollmentPendingException  when the server holds the request (202); send the same CSR later
     * @throws IOException                 when the server cannot be reached, TLS fails, or a timeout passes
     */
    @Override
    public X509Certificate simpleEnroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        byte[] requestedKey = EstAnswers.requestedKey(csrDer);
        return issued(requestedKey, exchange(enrollRequest(EstOperation.SIMPLE_ENROLL, csrDer).build()));
    }

    /**
     * RFC 7030 §4.2.2 simplereenroll, authenticated by the client certificate of this client's
     * {@link SSLContext} (the device's current certificate). The CSR's subject must be the
     * current certificate's; the key should be new.
     *
     * @throws EstException               when the server refuses or answers with something unusable
     * @throws EnrollmentPendingException when the server holds the request (202)
     * @throws IOException                when the server cannot be reached, TLS fails, or a timeout passes
     */
    @Override
    public X509Certificate simpleReenroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        byte[] requestedKey = EstAnswers.requestedKey(csrDer);
        return issued(requestedKey, exchange(enrollRequest(EstOperation.SIMPLE_REENROLL, csrDer).build()));
    }

    private HttpRequest.Builder enrollRequest(EstOperation operation, byte[] csrDer) {
        return newRequest(operation)
                .header("Content-Type", EstMediaTypes.PKCS10)
                .header(CONTENT_TRANSFER_ENCODING, "base64")
                .header("Accept", EstMediaTypes.PKCS7_MIME)
                .POST(HttpRequest.BodyPublishers.ofString(Base64Body.encode(csrDer), StandardCharsets.US_ASCII));
    }

    private HttpRequest.Builder newRequest(EstOperation operation) {
        return HttpRequest.newBuilder(URI.create(base + operation.httpPath())).timeout(timeouts.request());
    }

    /** Sends and reads the whole answer within the request timeout. */
    private HttpResponse<byte[]> exchange(HttpRequest request) throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<byte[]>> pending = http.sendAsync(request, info -> new BoundedBody());
        try {
            return pending.get(timeouts.request().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new HttpTimeoutException("no complete answer from " + request.uri() + " within "
                    + timeouts.request().toSeconds() + " s");
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IOException(cause);
        }
    }

    /** The certificate of a 200 answer to an enroll or re-enroll; 202 and refusals become exceptions. */
    private static X509Certificate issued(byte[] requestedKey, HttpResponse<byte[]> response)
            throws EstException, EnrollmentPendingException {
        if (response.statusCode() == 202) {
            throw new EnrollmentPendingException(retryAfter(response.headers(), Instant.now()),
                    EstAnswers.readable(response.body(), "the request waits for approval"));
        }
        List<X509Certificate> certificates = certsOnly(response);
        return EstAnswers.issuedFor(requestedKey, certificates).orElseThrow(() -> new EstException(
                response.statusCode(), null, "the server's answer holds no certificate for the requested key"));
    }

    /** The certificates of a 200 certs-only answer; anything else becomes an {@link EstException}. */
    private static List<X509Certificate> certsOnly(HttpResponse<byte[]> response) throws EstException {
        int status = response.statusCode();
        if (status != 200) {
            throw refusal(response);
        }
        Optional<String> type = response.headers().firstValue("Content-Type");
        if (type.isPresent() && !type.get().toLowerCase(Locale.ROOT).startsWith(EstMediaTypes.PKCS7_MIME)) {
            throw new EstException(status, null, "the server answered with Content-Type '" + EstAnswers.printable(type.get())
                    + "' instead of " + EstMediaTypes.PKCS7_MIME + "; is this an EST server?");
        }
        try {
            return Certificates.fromPkcs7CertsOnly(decodeBody(response));
        } catch (IllegalArgumentException e) {
            throw new EstException(status, null, "the server's answer is not a certs-only PKCS#7: " + e.getMessage());
        }
    }

    /** RFC 7030 §4.1.3: base64 when Content-Transfer-Encoding says so (Fleetkey always does); raw DER otherwise. */
    private static byte[] decodeBody(HttpResponse<byte[]> response) {
        byte[] body = response.body();
        boolean base64 = response.headers().firstValue(CONTENT_TRANSFER_ENCODING)
                .map(v -> v.trim().equalsIgnoreCase("base64"))
                .orElse(body.length > 0 && body[0] != 0x30);
        return base64 ? Base64Body.decode(new String(body, StandardCharsets.US_ASCII)) : body;
    }

    private static EstException refusal(HttpResponse<byte[]> response) {
        FailureCode code = response.headers().firstValue(FAILURE_CODE_HEADER)
                .flatMap(EstAnswers::failureCode).orElse(null);
        // A bare 401 challenge carries its reason in a header and no body (docs/est-https.md).
        String fallback = response.headers().firstValue(REASON_HEADER)
                .map(r -> EstAnswers.readable(r.getBytes(StandardCharsets.UTF_8), ""))
                .filter(r -> !r.isEmpty())
                .orElse("the server answered HTTP " + response.statusCode() + " without a reason");
        return new EstException(response.statusCode(), code, EstAnswers.readable(response.body(), fallback));
    }

    /** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
    static Duration retryAfter(HttpHeaders headers, Instant now) {
        Optional<String> value = headers.firstValue("Retry-After").map(String::trim);
        if (value.isEmpty()) {
            return DEFAULT_RETRY_AFTER;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(value.get())));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration delay = Duration.between(now, at);
                return delay.isNegative() ? Duration.ZERO : delay;
            } catch (DateTimeParseException notDate) {
                return DEFAULT_RETRY_AFTER;
            }
        }
    }

    private static String baseOf(URI server) {
        Objects.requireNonNull(server, "server");
        if (!"https".equalsIgnoreCase(server.getScheme()) || server.getHost() == null) {
            throw new IllegalArgumentException("the server address must be an https URL such as "
                    + "https://fleetkey.example.com:8443 (RFC 7030 requires TLS); got '" + server + "'");
        }
        if (server.getRawQuery() != null || server.getRawFragment() != null) {
            throw new IllegalArgumentException("the server address must not have a query or fragment: '" + server + "'");
        }
        String text = server.toString();
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return text;
    }

    /** Collects the body up to {@link #MAX_RESPONSE_BYTES}; more fails the exchange instead of filling the heap. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (buffer.size() + item.remaining() > MAX_RESPONSE_BYTES) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("the server's answer is larger than "
                            + MAX_RESPONSE_BYTES + " bytes; an EST answer is a few kilobytes"));
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                buffer.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(buffer.toByteArray());
        }

        @Override
        public CompletableFuture<byte[]> getBody() {
            return result;
        }
    }
}
