package io.fleetkey.agent;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLContext;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.EstCoapStatus;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.protocol.MqttTopics;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.MqttReturnCode;

/**
 * Fleetkey's EST over MQTT 5 (docs/mqtt-protocol.md) on the Eclipse Paho client: requests on
 * {@code fleetkey/v1/est/{deviceId}/{op}/req/{requestId}}, answers on
 * {@code .../{op}/res/{requestId}/{status}} with the status codes of EST-coaps.
 * <p>
 * The connection is TLS to the broker, trusting only the pinned Fleetkey CA certificates and
 * checking the broker's host name; client id = device id. A device without a certificate logs in
 * with username = device id, and its first enrollment is authenticated by the token in the CSR.
 * A device with a certificate presents it as TLS client certificate: on Fleetkey's embedded broker
 * that authenticates {@code sren} (the broker vouches for the TLS session). <b>Through an external
 * broker</b> the server cannot see the TLS session, so renewal needs a device statement signed
 * with the current key inside the CSR; add it with a {@link CsrAttributeSource} on
 * {@link DeviceEnroller} (the hook for it), this client sends the CSR as it is.
 * <p>
 * The client connects on its first call and keeps the connection until {@link #close()}. It
 * subscribes to its answers before it publishes its first request, correlates answers by request
 * id, and waits at most {@link #timeout()} for each (connecting included). Nothing is written to
 * disk (in-memory session state). Thread-safe.
 */
public final class EstMqttClient implements EstTransport {
    /** The IANA port of MQTT over TLS. */
    public static final int DEFAULT_PORT = 8883;
    /** docs/mqtt-protocol.md: "a device waits for its answer (30 s is a good timeout)". */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** docs/mqtt-protocol.md: a request that waits in the broker longer is not worth answering. */
    static final long MESSAGE_EXPIRY_SECONDS = 60;
    private static final String DOOR = "MQTT";
    private static final String PENDING_APPROVAL = "PENDING_APPROVAL";
    private static final int QOS = 1;

    private final String broker;
    private final String deviceId;
    private final boolean presentsCertificate;
    private final SSLContext tls;
    private final Duration timeout;
    private final Map<String, CompletableFuture<Answer>> waiting = new ConcurrentHashMap<>();
    private MqttAsyncClient client;
    private boolean closed;

    /** One answer as it arrived: the status of its topic, its payload. */
    private record Answer(String status, byte[] payload) {
    }

    /**
     * @param broker       e.g. {@code ssl://fleetkey.example.com:8883} ({@code mqtts://} is taken too;
     *                     port {@value #DEFAULT_PORT} if left out)
     * @param deviceId     the device this client speaks for; its client id and topic space
     * @param trustAnchors the pinned Fleetkey CA certificates; nothing else is trusted
     * @param identity     the device's current identity, presented as TLS client certificate, or null
     *                     for a device that has none yet (it then logs in with username = device id)
     * @param timeout      bound of connecting and of each request
     * @throws IllegalArgumentException when the URI is not an ssl/mqtts URI or the device id is invalid
     */
    public EstMqttClient(URI broker, String deviceId, List<X509Certificate> trustAnchors, DeviceIdentity identity,
                         Duration timeout) {
        this.broker = brokerOf(broker);
        if (!DeviceIds.isValid(deviceId)) {
            throw new IllegalArgumentException("invalid device id: use " + DeviceIds.rule());
        }
        if (identity != null && !deviceId.equals(identity.deviceId())) {
            throw new IllegalArgumentException("the identity is device '" + identity.deviceId() + "', not '"
                    + deviceId + "'");
        }
        this.deviceId = deviceId;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative() || timeout.toSeconds() < 1) {
            throw new IllegalArgumentException("the timeout must be at least one second");
        }
        this.presentsCertificate = identity != null;
        this.tls = identity == null ? AgentTls.trusting(trustAnchors) : AgentTls.trusting(trustAnchors, () -> identity);
    }

    /** A client with {@link #DEFAULT_TIMEOUT}. */
    public EstMqttClient(URI broker, String deviceId, List<X509Certificate> trustAnchors, DeviceIdentity identity) {
        this(broker, deviceId, trustAnchors, identity, DEFAULT_TIMEOUT);
    }

    @Override
    public String endpoint() {
        return broker;
    }

    /** The bound of connecting and of each request. */
    public Duration timeout() {
        return timeout;
    }

    /** Op {@code crts}: DER certs-only PKCS#7 with the issuing CA and the root. */
    @Override
    public List<X509Certificate> caCertificates() throws EstException, IOException, InterruptedException {
        Answer answer = request(EstOperation.CA_CERTIFICATES.shortName(), new byte[0], null);
        List<X509Certificate> certificates = certificates(answer);
        if (certificates.isEmpty()) {
            throw EstException.ofCoapStatus(DOOR, answer.status(), null,
                    "the server's CA certificates answer holds no certificate");
        }
        return certificates;
    }

    /** Op {@code nonce}: {@code {"nonce", "expiry"}} JSON. */
    @Override
    public FreshnessNonce nonce() throws EstException, IOException, InterruptedException {
        Answer answer = request(MqttTopics.NONCE, new byte[0], null);
        if (!EstCoapStatus.isSuccess(answer.status())) {
            throw refusal(answer);
        }
        try {
            return FreshnessNonce.fromJson(new String(answer.payload(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw EstException.ofCoapStatus(DOOR, answer.status(), null, e.getMessage());
        }
    }

    /** Op {@code sen}: the DER CSR in, {@code 2.04} with certs-only PKCS#7 out. */
    @Override
    public X509Certificate simpleEnroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        return enroll(EstOperation.SIMPLE_ENROLL, csrDer);
    }

    /** Op {@code sren}, authenticated as described in the class comment. */
    @Override
    public X509Certificate simpleReenroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        return enroll(EstOperation.SIMPLE_REENROLL, csrDer);
    }

    private X509Certificate enroll(EstOperation operation, byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException {
        byte[] requestedKey = EstAnswers.requestedKey(csrDer);
        Answer answer = request(operation.shortName(), csrDer, EstMediaTypes.PKCS10);
        if (!EstCoapStatus.isSuccess(answer.status())) {
            Map<String, Object> body = errorBody(answer);
            if (PENDING_APPROVAL.equals(body.get("code"))) {
                // docs/mqtt-protocol.md: 5.03 with retryAfter; the identical CSR again after it.
                long seconds = body.get("retryAfter") instanceof Number n ? Math.max(0, n.longValue())
                        : EstHttpsClient.DEFAULT_RETRY_AFTER.toSeconds();
                throw new EnrollmentPendingException(Duration.ofSeconds(seconds),
                        reasonOf(body, "the request waits for approval"));
            }
            throw refusal(answer);
        }
        return EstAnswers.issuedFor(requestedKey, certificates(answer)).orElseThrow(() ->
                EstException.ofCoapStatus(DOOR, answer.status(), null,
                        "the server's answer holds no certificate for the requested key"));
    }

    /** Publishes one request and waits for the answer with its request id. */
    private Answer request(String operation, byte[] payload, String contentType)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        MqttAsyncClient connected = connected();
        String requestId = UUID.randomUUID().toString();
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        waiting.put(requestId, answer);
        try {
            MqttProperties properties = new MqttProperties();
            properties.setMessageExpiryInterval(MESSAGE_EXPIRY_SECONDS);
            properties.setCorrelationData(requestId.getBytes(StandardCharsets.US_ASCII));
            if (contentType != null) {
                properties.setContentType(contentType);
            }
            String topic = MqttTopics.request(deviceId, operation, requestId);
            try {
                IMqttToken published = connected.publish(topic, new MqttMessage(payload, QOS, false, properties));
                published.waitForCompletion(remainingMillis(deadline));
                int[] codes = published.getReasonCodes();
                if (codes != null && codes.length > 0 && codes[0] >= MqttReturnCode.RETURN_CODE_UNSPECIFIED_ERROR) {
                    throw new IOException("the broker refused the request on " + topic + " (PUBACK reason 0x"
                            + Integer.toHexString(codes[0]) + "); is device '" + deviceId + "' allowed there?");
                }
            } catch (MqttException e) {
                throw io("publishing the " + operation + " request failed", e);
            }
            return answer.get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("no answer to the " + operation + " request from " + broker + " within "
                    + timeout.toSeconds() + " s; is the Fleetkey server connected to the broker?");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause);
        } finally {
            waiting.remove(requestId);
        }
    }

    /** The connection, made on first use: subscribed to this device's answers before anything is sent. */
    private synchronized MqttAsyncClient connected() throws IOException {
        if (closed) {
            throw new IOException("the MQTT client is closed");
        }
        if (client != null && client.isConnected()) {
            return client;
        }
        closeQuietly();
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setSessionExpiryInterval(0L);
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(60);
        options.setConnectionTimeout((int) Math.max(1, timeout.toSeconds()));
        options.setSocketFactory(tls.getSocketFactory());
        options.setHttpsHostnameVerificationEnabled(true);
        if (!presentsCertificate) {
            options.setUserName(deviceId); // docs/mqtt-broker.md: a device without a certificate logs in by id
        }
        try {
            // In-memory state: Paho's default persistence writes files into the working directory.
            MqttAsyncClient fresh = new MqttAsyncClient(broker, deviceId, new MemoryPersistence());
            fresh.setCallback(new Callback());
            client = fresh;
            fresh.connect(options).waitForCompletion(timeout.toMillis());
            IMqttToken subscribed = fresh.subscribe(new MqttSubscription[]{
                    new MqttSubscription(MqttTopics.deviceResponses(deviceId), QOS)});
            subscribed.waitForCompletion(timeout.toMillis());
            int[] codes = subscribed.getReasonCodes();
            if (codes != null && codes.length > 0 && codes[0] >= MqttReturnCode.RETURN_CODE_UNSPECIFIED_ERROR) {
                throw new IOException("the broker refused the subscription to this device's answers (SUBACK reason 0x"
                        + Integer.toHexString(codes[0]) + ")");
            }
            return fresh;
        } catch (MqttException e) {
            closeQuietly();
            throw connectFailure(e);
        } catch (IOException e) {
            closeQuietly();
            throw e;
        }
    }

    /** CONNACK refusals are the server's word on the device: {@link BrokerRefusal}; the rest is I/O. */
    private IOException connectFailure(MqttException e) {
        int code = e.getReasonCode();
        if (code >= MqttReturnCode.RETURN_CODE_UNSPECIFIED_ERROR && code <= 0xFF) {
            String why = switch (code) {
                case MqttReturnCode.RETURN_CODE_NOT_AUTHORIZED -> "not authorized: the device is unknown or revoked, or "
                        + "its certificate is not accepted";
                case MqttReturnCode.RETURN_CODE_BAD_USERNAME_OR_PASSWORD -> "bad user name: without a certificate the "
                        + "user name must be the device id";
                case MqttReturnCode.RETURN_CODE_IDENTIFIER_NOT_VALID -> "client id not valid: it must be the device id "
                        + "the certificate names";
                case MqttReturnCode.RETURN_CODE_SERVER_UNAVAILABLE, MqttReturnCode.RETURN_CODE_SERVER_BUSY ->
                        "the broker is busy or unavailable; try again later";
                default -> describe(e);
            };
            return new BrokerRefusal(code, "the broker " + broker + " refused device '" + deviceId
                    + "' (CONNACK 0x" + Integer.toHexString(code) + "): " + why);
        }
        return io("connecting to " + broker + " failed", e);
    }

    /**
     * The broker refused the connection (a CONNACK reason code of 0x80 or more): it does not take
     * this device, or not now. An {@link IOException} because no EST request was answered.
     */
    public static final class BrokerRefusal extends IOException {
        private static final long serialVersionUID = 1L;
        private final int reasonCode;

        BrokerRefusal(int reasonCode, String message) {
            super(message);
            this.reasonCode = reasonCode;
        }

        /** The MQTT 5 CONNACK reason code, e.g. 0x87 (not authorized). */
        public int reasonCode() {
            return reasonCode;
        }
    }

    private static IOException io(String what, MqttException e) {
        Throwable cause = e.getCause();
        return new IOException(what + ": " + describe(cause != null ? cause : e), cause != null ? cause : e);
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static long remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("the time for the request ran out");
        }
        return left;
    }

    /** Runs on Paho's thread: hands answers over, never blocks. */
    private final class Callback implements MqttCallback {
        @Override
        public void messageArrived(String topic, MqttMessage message) {
            // fleetkey/v1/est/{deviceId}/{op}/res/{requestId}/{status}
            String[] levels = topic.split("/", -1);
            if (levels.length != 8 || !topic.startsWith(MqttTopics.PREFIX + "/est/" + deviceId + "/")
                    || !"res".equals(levels[5])) {
                return;
            }
            CompletableFuture<Answer> future = waiting.get(levels[6]);
            if (future != null) {
                future.complete(new Answer(levels[7], message.getPayload()));
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            IOException lost = new IOException("the broker " + broker + " closed the connection"
                    + (response.getReasonString() == null ? "" : ": " + response.getReasonString())
                    + " (reason 0x" + Integer.toHexString(response.getReturnCode()) + ")");
            waiting.values().forEach(f -> f.completeExceptionally(lost));
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }

    private static List<X509Certificate> certificates(Answer answer) throws EstException {
        if (!EstCoapStatus.isSuccess(answer.status())) {
            throw refusal(answer);
        }
        try {
            return Certificates.fromPkcs7CertsOnly(answer.payload());
        } catch (IllegalArgumentException e) {
            throw EstException.ofCoapStatus(DOOR, answer.status(), null,
                    "the server's answer is not a certs-only PKCS#7: " + e.getMessage());
        }
    }

    /** docs/mqtt-protocol.md: {@code {"code", "status", "reason", "retryAfter"}}. */
    private static EstException refusal(Answer answer) {
        Map<String, Object> body = errorBody(answer);
        Optional<FailureCode> code = body.get("code") instanceof String name ? EstAnswers.failureCode(name)
                : Optional.empty();
        return EstException.ofCoapStatus(DOOR, EstAnswers.printable(answer.status()), code.orElse(null),
                reasonOf(body, "the server answered " + EstAnswers.printable(answer.status()) + " without a reason"));
    }

    private static Map<String, Object> errorBody(Answer answer) {
        try {
            return JSONObjectUtils.parse(new String(answer.payload(), StandardCharsets.UTF_8));
        } catch (java.text.ParseException | RuntimeException e) {
            return Map.of("reason", new String(answer.payload(), StandardCharsets.UTF_8));
        }
    }

    private static String reasonOf(Map<String, Object> body, String fallback) {
        Object reason = body.get("reason");
        return reason instanceof String text
                ? EstAnswers.readable(text.getBytes(StandardCharsets.UTF_8), fallback) : fallback;
    }

    private static String brokerOf(URI broker) {
        Objects.requireNonNull(broker, "broker");
        String scheme = broker.getScheme() == null ? "" : broker.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!(scheme.equals("ssl") || scheme.equals("mqtts")) || broker.getHost() == null) {
            throw new IllegalArgumentException("the MQTT address must be a TLS address such as "
                    + "ssl://fleetkey.example.com:8883 (or mqtts://); got '" + broker + "'");
        }
        if ((broker.getRawPath() != null && !broker.getRawPath().isEmpty() && !broker.getRawPath().equals("/"))
                || broker.getRawQuery() != null || broker.getRawFragment() != null) {
            throw new IllegalArgumentException("the MQTT address is a host and port only: '" + broker + "'");
        }
        return "ssl://" + broker.getHost() + ":" + (broker.getPort() < 0 ? DEFAULT_PORT : broker.getPort());
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeQuietly();
        IOException closing = new IOException("the MQTT client was closed");
        waiting.values().forEach(f -> f.completeExceptionally(closing));
    }

    private void closeQuietly() {
        MqttAsyncClient old = client;
        client = null;
        if (old == null) {
            return;
        }
        try {
            if (old.isConnected()) {
                old.disconnect().waitForCompletion(2_000);
            }
        } catch (MqttException ignored) {
            // going away anyway
        }
        try {
            old.close(true);
        } catch (MqttException ignored) {
            // already closed
        }
    }
}
