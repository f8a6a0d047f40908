package io.fleetkey.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;

/**
 * EST over CoAP and DTLS 1.2 (RFC 9148) on Eclipse Californium and Scandium: one CoAP endpoint
 * on its own UDP port, one DTLS session to the server, reused by every call until {@link #close()}.
 * <p>
 * The server is authenticated against the explicit trust anchors only (the pinned Fleetkey CA
 * chain; RFC 9148 §3 and RFC 7030 §4.1.1), its certificate's names against the host of the URI.
 * The client presents the device's certificate in the handshake when it was given one (renewal,
 * RFC 9148 §3: the DTLS client certificate authenticates {@code sren}), and none otherwise: a
 * first boot then relies on the enrollment token inside the CSR, over a DTLS session that
 * authenticated only the server (docs/est-coaps.md, "Token devices").
 * <p>
 * Bodies larger than a datagram travel block-wise (RFC 7959), in blocks of
 * {@value #BLOCK_SIZE} bytes. Every call is bounded by {@link #timeout()}, DTLS handshake and all
 * blocks included. Settings are made in code for a small device: one protocol thread, one DTLS
 * receiver and worker thread, a handful of sessions; nothing is read from or written to a
 * {@code Californium3.properties} file. Thread-safe.
 */
public final class EstCoapsClient implements EstTransport {
    /** RFC 7252 §6.2: the coaps scheme's default port. */
    public static final int DEFAULT_PORT = 5684;
    /** Used when a request or its answer takes longer, handshake included. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Block size (RFC 7959) for requests and answers; the Fleetkey server prefers it too. */
    static final int BLOCK_SIZE = 512;
    /** The largest answer put together from blocks; an EST answer holds a few certificates. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** RFC 7252 §5.10.5: Max-Age when the option is absent. */
    private static final long DEFAULT_MAX_AGE_SECONDS = 60;
    private static final String DOOR = "CoAP";

    static {
        CoapConfig.register();
        DtlsConfig.register();
    }

    private final String base;
    private final Duration timeout;
    private final CoapEndpoint endpoint;

    /**
     * @param server       e.g. {@code coaps://fleetkey.example.com:5684} (port {@value #DEFAULT_PORT} if left out);
     *                     a path, if any, is kept as prefix of {@code /.well-known/est/...}
     * @param trustAnchors the pinned Fleetkey CA certificates; nothing else is trusted
     * @param identity     the device's current identity to present in the DTLS handshake, or null for none
     * @param timeout      bound of one call, handshake and block-wise transfer included
     * @throws IllegalArgumentException when the URI is not an absolute coaps URI or there is no anchor
     * @throws IOException              when the local UDP endpoint cannot be opened
     */
    public EstCoapsClient(URI server, List<X509Certificate> trustAnchors, DeviceIdentity identity, Duration timeout)
            throws IOException {
        this.base = baseOf(server);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("the timeout must be positive");
        }
        if (trustAnchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
        Configuration configuration = configuration();
        DtlsConnectorConfig.Builder dtls = DtlsConnectorConfig.builder(configuration)
                .setAddress(new InetSocketAddress(0))
                .set(DtlsConfig.DTLS_ROLE, DtlsRole.CLIENT_ONLY)
                // RFC 9148 §7 (via RFC 7925): CCM_8 is mandatory; GCM for servers that prefer it.
                .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
                        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
                // Fleetkey's issuing CA is signed by a P-384 root with SHA-384; DTLS 1.2 lets the server send
                // only certificates signed with algorithms the client offers (docs/est-coaps.md).
                .setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA,
                        SignatureAndHashAlgorithm.SHA384_WITH_ECDSA)
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder()
                        .setTrustedCertificates(trustAnchors.toArray(new X509Certificate[0])).build());
        if (identity != null) {
            dtls.setCertificateIdentityProvider(new SingleCertificateProvider(identity.privateKey(),
                    identity.chain().toArray(new X509Certificate[0]), CertificateType.X_509));
        }
        this.endpoint = new CoapEndpoint.Builder().setConfiguration(configuration)
                .setConnector(new DTLSConnector(dtls.build())).build();
        try {
            endpoint.start();
        } catch (IOException | RuntimeException e) {
            endpoint.destroy(); // its socket and threads
            throw e;
        }
    }

    /** A client with {@link #DEFAULT_TIMEOUT}. */
    public EstCoapsClient(URI server, List<X509Certificate> trustAnchors, DeviceIdentity identity) throws IOException {
        this(server, trustAnchors, identity, DEFAULT_TIMEOUT);
    }

    /**
     * Californium's settings for one small client, built in code. {@code new Configuration()} takes
     * the registered defaults and never touches {@code Configuration.getStandard()}, which would
     * write {@code Californium3.properties} into the working directory.
     */
    static Configuration configuration() {
        Configuration c = new Configuration();
        c.set(CoapConfig.MAX_MESSAGE_SIZE, BLOCK_SIZE);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, BLOCK_SIZE);
        c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, MAX_BODY_BYTES);
        c.set(CoapConfig.PROTOCOL_STAGE_THREAD_COUNT, 1);
        c.set(CoapConfig.MAX_ACTIVE_PEERS, 4);
        c.set(CoapConfig.MAX_PEER_INACTIVITY_PERIOD, 10, TimeUnit.MINUTES);
        c.set(CoapConfig.EXCHANGE_LIFETIME, 2, TimeUnit.MINUTES);
        c.set(DtlsConfig.DTLS_RECEIVER_THREAD_COUNT, 1);
        c.set(DtlsConfig.DTLS_CONNECTOR_THREAD_COUNT, 1);
        c.set(DtlsConfig.DTLS_MAX_CONNECTIONS, 4);
        c.set(DtlsConfig.DTLS_RECEIVE_BUFFER_SIZE, 64 * 1024);
        c.set(DtlsConfig.DTLS_SEND_BUFFER_SIZE, 64 * 1024);
        c.set(DtlsConfig.DTLS_RETRANSMISSION_TIMEOUT, 1, TimeUnit.SECONDS);
        c.set(DtlsConfig.DTLS_MAX_RETRANSMISSIONS, 4);
        c.set(DtlsConfig.DTLS_OUTBOUND_MESSAGE_BUFFER_SIZE, 16);
        return c;
    }

    @Override
    public String endpoint() {
        return base;
    }

    /** The bound of one call. */
    public Duration timeout() {
        return timeout;
    }

    /** RFC 9148 §4.1 {@code GET /crts}, Content-Format 281: the issuing CA and the root. */
    @Override
    public List<X509Certificate> caCertificates() throws EstException, IOException, InterruptedException {
        Request request = Request.newGet();
        request.getOptions().setAccept(EstMediaTypes.COAP_PKCS7_CERTS_ONLY);
        Response response = exchange(request, EstOperation.CA_CERTIFICATES.shortName());
        List<X509Certificate> certificates = certificates(response);
        if (certificates.isEmpty()) {
            throw EstException.ofCoapStatus(DOOR, status(response), null,
                    "the server's CA certificates answer holds no certificate");
        }
        return certificates;
    }

    /** {@code GET /nonce}, Content-Format 50: {@code {"nonce", "expiry"}} JSON (docs/est-coaps.md). */
    @Override
    public FreshnessNonce nonce() throws EstException, IOException, InterruptedException {
        Request request = Request.newGet();
        request.getOptions().setAccept(MediaTypeRegistry.APPLICATION_JSON);
        Response response = exchange(request, EstOperation.NONCE);
        if (!response.isSuccess()) {
            throw refusal(response);
        }
        try {
            return FreshnessNonce.fromJson(new String(payload(response), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw EstException.ofCoapStatus(DOOR, status(response), null, e.getMessage());
        }
    }

    /** RFC 9148 §4.4 {@code POST /sen}, the CSR as Content-Format 286; 2.04 with the certificate. */
    @Override
    public X509Certificate simpleEnroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        return enroll(EstOperation.SIMPLE_ENROLL, csrDer);
    }

    /** RFC 9148 §4.4 {@code POST /sren}, authenticated by the DTLS client certificate. */
    @Override
    public X509Certificate simpleReenroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        return enroll(EstOperation.SIMPLE_REENROLL, csrDer);
    }

    private X509Certificate enroll(EstOperation operation, byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        byte[] requestedKey = EstAnswers.requestedKey(csrDer);
        Request request = Request.newPost();
        request.getOptions().setContentFormat(EstMediaTypes.COAP_PKCS10)
                .setAccept(EstMediaTypes.COAP_PKCS7_CERTS_ONLY);
        request.setPayload(csrDer);
        Response response = exchange(request, operation.shortName());
        if (response.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE) {
            String text = EstAnswers.readable(response.getPayload(), "the request waits for approval");
            if (codePrefix(text).isEmpty()) {
                // RFC 9148 §4.7: held for approval; the same CSR again after Max-Age.
                Long maxAge = response.getOptions().getMaxAge();
                throw new EnrollmentPendingException(Duration.ofSeconds(maxAge == null
                        ? DEFAULT_MAX_AGE_SECONDS : Math.max(0, maxAge)), text);
            }
        }
        return EstAnswers.issuedFor(requestedKey, certificates(response)).orElseThrow(() ->
                EstException.ofCoapStatus(DOOR, status(response), null,
                        "the server's answer holds no certificate for the requested key"));
    }

    /** The certificates of a 2.xx answer in Content-Format 281 or 287; anything else is an {@link EstException}. */
    private static List<X509Certificate> certificates(Response response) throws EstException {
        if (!response.isSuccess()) {
            throw refusal(response);
        }
        int format = response.getOptions().getContentFormat();
        try {
            if (format == EstMediaTypes.COAP_PKIX_CERT) {
                return List.of(Certificates.fromDer(payload(response)));
            }
            if (format == EstMediaTypes.COAP_PKCS7_CERTS_ONLY || format == MediaTypeRegistry.UNDEFINED) {
                return Certificates.fromPkcs7CertsOnly(payload(response));
            }
        } catch (IllegalArgumentException e) {
            throw EstException.ofCoapStatus(DOOR, status(response), null,
                    "the server's answer is not a certs-only PKCS#7 or a certificate: " + e.getMessage());
        }
        throw EstException.ofCoapStatus(DOOR, status(response), null, "the server answered with Content-Format "
                + format + " instead of " + EstMediaTypes.COAP_PKCS7_CERTS_ONLY + "; is this an EST-coaps server?");
    }

    /** docs/est-coaps.md: refusals are 4.xx/5.xx with a text/plain diagnostic {@code CODE: reason}. */
    private static EstException refusal(Response response) {
        String text = EstAnswers.readable(response.getPayload(), "the server answered " + status(response)
                + " without a reason");
        Optional<FailureCode> code = codePrefix(text).flatMap(EstAnswers::failureCode);
        String reason = code.isPresent() ? text.substring(text.indexOf(':') + 1).trim() : text;
        return EstException.ofCoapStatus(DOOR, status(response), code.orElse(null), reason);
    }

    /** The {@code CODE} of a {@code CODE: reason} diagnostic, when the text starts with one. */
    private static Optional<String> codePrefix(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            return Optional.empty();
        }
        String prefix = text.substring(0, colon);
        return prefix.matches("[A-Z][A-Z_]{1,40}") ? Optional.of(prefix) : Optional.empty();
    }

    /** Sends one request and waits for its whole answer (all blocks) within the timeout. */
    private Response exchange(Request request, String resource) throws IOException, InterruptedException {
        request.setURI(base + EstOperation.WELL_KNOWN_PREFIX + "/" + resource);
        request.send(endpoint);
        Response response;
        try {
            response = request.waitForResponse(timeout.toMillis());
        } catch (InterruptedException e) {
            request.cancel();
            throw e;
        }
        if (response != null) {
            return response;
        }
        request.cancel();
        Throwable error = request.getSendError();
        if (error != null) {
            // A failed DTLS handshake (untrusted server, alert) or an unreachable host.
            throw new IOException("DTLS with " + base + " failed: " + describe(error), error);
        }
        if (request.isRejected()) {
            throw new IOException(base + " rejected the request (CoAP reset)");
        }
        throw new SocketTimeoutException("no complete answer from " + base + " within " + timeout.toSeconds()
                + " s (CoAP over DTLS, UDP); check --coap, the network and that UDP reaches the server");
    }

    private static String describe(Throwable error) {
        return error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    }

    private static byte[] payload(Response response) {
        byte[] payload = response.getPayload();
        return payload == null ? new byte[0] : payload;
    }

    private static String status(Response response) {
        return response.getCode().codeClass + "." + String.format("%02d", response.getCode().codeDetail);
    }

    private static String baseOf(URI server) {
        Objects.requireNonNull(server, "server");
        if (!"coaps".equalsIgnoreCase(server.getScheme()) || server.getHost() == null) {
            throw new IllegalArgumentException("the CoAP address must be a coaps URI such as "
                    + "coaps://fleetkey.example.com:5684 (RFC 9148 requires DTLS); got '" + server + "'");
        }
        if (server.getRawQuery() != null || server.getRawFragment() != null) {
            throw new IllegalArgumentException("the CoAP address must not have a query or fragment: '" + server + "'");
        }
        int port = server.getPort() < 0 ? DEFAULT_PORT : server.getPort();
        String host = server.getHost();
        String path = server.getRawPath() == null ? "" : server.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return "coaps://" + host + ":" + port + path;
    }

    @Override
    public void close() {
        endpoint.destroy();
    }
}
