package io.fleetkey.server.transport.mqtt;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.authority.ServerIdentity;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.config.TransportFactory;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.FreshnessNonces;
import io.fleetkey.server.enrollment.RejectedTraffic;
import io.fleetkey.server.health.DoorReadiness;
import io.fleetkey.server.events.DeviceNotice;
import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.event.annotation.EventListener;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * EST over MQTT (docs/mqtt-protocol.md): the server's own Paho MQTT 5 client subscribes to every
 * device's requests through the shared subscription {@link MqttTopics#serverRequests()}, so the
 * broker hands each request to one server node, and answers on the device's response topic.
 *
 * <p>Requests are acknowledged only after their answer is handed to the client, and the broker
 * gives a node at most {@code max-in-flight} unacknowledged requests at a time (Receive
 * Maximum), which is the door's back-pressure. Answers are kept for {@code reply-cache-time} by
 * (device, operation, request id): a duplicate delivery of a QoS 1 request, even one that comes
 * while the first is still being worked on, gets the same answer and never a second certificate.
 *
 * <p>On the embedded broker each request carries the broker's {@link ChannelStamp} (TLS or
 * not, the client certificate); through an external broker the server sees none of that and
 * the request must prove itself in its CSR.
 */
@Context
@Requires(condition = BrokerChoice.Listener.class)
public class MqttDoor {
    private static final Logger LOG = LoggerFactory.getLogger(MqttDoor.class);
    static final String NAME = "mqtt";
    static final String DOOR = "MQTT";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    /**
     * How long one attempt to reach a broker that went away may take. Once in a few restarts of
     * Mosquitto an attempt got no answer at all; the next one gets through, so waiting the full
     * CONNECT_TIMEOUT for it kept the door down 30 s longer than the broker was.
     */
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(10);

    private final FleetkeyConfiguration.Mqtt settings;
    private final MqttEstHandler handler;
    private final ExecutorService executor;
    /** True while keepConnecting runs, so a disconnect never starts a second one. */
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    private volatile boolean stopping;
    private final DoorReadiness readiness;
    private final boolean embedded;
    private final Cache<RequestKey, CompletableFuture<MqttReply>> replies;
    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final String brokerDescription;
    private final JsonMapper json;
    private final EnrollmentService enrollment;
    /** The broker's Receive Maximum for our publishes; Paho refuses to exceed it rather than wait. */
    private volatile Semaphore sendWindow = new Semaphore(10);

    public MqttDoor(FleetkeyConfiguration config, EnrollmentService enrollment, FreshnessNonces nonces, JsonMapper json,
                    BeanProvider<EmbeddedBroker> embeddedBroker, ServerIdentity identity,
                    @Named(TransportFactory.MQTT_CLIENT) BeanProvider<ServerIdentity> clientIdentity,
                    DoorReadiness readiness,
                    @Named(TaskExecutors.BLOCKING) ExecutorService executor) {
        this.settings = config.getMqtt();
        this.handler = new MqttEstHandler(enrollment, nonces, json, config.getEnrollment().getMaxRequestBytes());
        this.json = json;
        this.enrollment = enrollment;
        this.executor = executor;
        this.readiness = readiness;
        this.replies = Caffeine.newBuilder().expireAfterWrite(settings.getReplyCacheTime())
                .maximumSize(200_000).build();
        readiness.expect(NAME);
        FleetkeyConfiguration.Mqtt.Broker external = settings.getBroker();
        this.embedded = !external.isConfigured();
        String clientId = InternalCredentials.CLIENT_ID_PREFIX + randomSuffix();
        this.options = new MqttConnectionOptions();
        options.setCleanStart(true);
        // The door reconnects itself (keepConnecting): Paho's automatic reconnect keeps its back-off in
        // a static field, which every other Paho client in the JVM doubles too.
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(30);
        options.setConnectionTimeout((int) CONNECT_TIMEOUT.toSeconds());
        options.setReceiveMaximum(settings.getMaxInFlight());
        String uri;
        if (embedded) {
            EmbeddedBroker broker = embeddedBroker.get();
            uri = broker.internalUri();
            options.setUserName(InternalCredentials.USERNAME);
            options.setPassword(broker.internalCredentials().password());
            options.setSocketFactory(NoDelaySockets.plain());
            brokerDescription = "the embedded broker";
        } else {
            uri = external.getUrl();
            configureExternal(external, identity, clientIdentity, options);
            brokerDescription = "the broker at " + uri;
        }
        try {
            this.client = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        } catch (MqttException | IllegalArgumentException e) {
            throw new ConfigurationException("FLEETKEY_MQTT_BROKER_URL '" + uri + "' is not usable: " + e.getMessage()
                    + " (use ssl://host:8883 or tcp://host:1883)", e);
        }
        client.setManualAcks(true);
        // While the broker is away, an answer is lost (the device asks again and gets the same
        // certificate from the reply cache) and so is a renew-now notice; revocation notices are
        // retained and published again on every reconnect.
        client.setCallback(new Callback());
        connect();
    }

    private static void configureExternal(FleetkeyConfiguration.Mqtt.Broker broker, ServerIdentity identity,
                                          BeanProvider<ServerIdentity> clientIdentity, MqttConnectionOptions options) {
        boolean tls = broker.getUrl().startsWith("ssl://") || broker.getUrl().startsWith("wss://");
        if (!broker.getUsername().isEmpty()) {
            options.setUserName(broker.getUsername());
        }
        if (!broker.getPassword().isEmpty()) {
            if (!tls && !broker.isAllowPlainPassword()) {
                throw new ConfigurationException("FLEETKEY_MQTT_BROKER_PASSWORD would travel unencrypted to "
                        + broker.getUrl() + "; use an ssl:// URL, or FLEETKEY_MQTT_BROKER_ALLOW_PLAIN_PASSWORD=true "
                        + "for development");
            }
            options.setPassword(broker.getPassword().getBytes(StandardCharsets.UTF_8));
        }
        if (tls) {
            options.setSocketFactory(NoDelaySockets.tls(externalTls(broker, identity, clientIdentity)
                    .getSocketFactory()));
        } else {
            options.setSocketFactory(NoDelaySockets.plain());
            options.setHttpsHostnameVerificationEnabled(true);
        }
    }

    /** Trusts the CA file (or Fleetkey's root) and presents the configured client certificate, if any. */
    private static SSLContext externalTls(FleetkeyConfiguration.Mqtt.Broker broker, ServerIdentity identity,
                                          BeanProvider<ServerIdentity> clientIdentity) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            List<X509Certificate> anchors = new ArrayList<>();
            if (broker.getCaFile().isEmpty()) {
                anchors.add(identity.chain().get(identity.chain().size() - 1));
            } else {
                try (InputStream in = Files.newInputStream(Path.of(broker.getCaFile()))) {
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        anchors.add((X509Certificate) c);
                    }
                }
                if (anchors.isEmpty()) {
                    throw new ConfigurationException("FLEETKEY_MQTT_BROKER_CA_FILE " + broker.getCaFile()
                            + " holds no PEM certificate");
                }
            }
            for (int i = 0; i < anchors.size(); i++) {
                trust.setCertificateEntry("ca-" + i, anchors.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            char[] password;
            KeyStore keys = KeyStore.getInstance("PKCS12");
            if (!broker.getClientKeystore().isEmpty()) {
                password = broker.getClientKeystorePassword().toCharArray();
                try (InputStream in = Files.newInputStream(Path.of(broker.getClientKeystore()))) {
                    keys.load(in, password);
                }
            } else {
                // The server's own MQTT client certificate, issued by the Fleetkey CA (CN fleetkey:server).
                ServerIdentity own = clientIdentity.get();
                password = new char[0];
                keys.load(null, null);
                keys.setKeyEntry("mqtt-client", own.key(), password, own.chain().toArray(Certificate[]::new));
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return ssl;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigurationException("cannot set up TLS to the MQTT broker (FLEETKEY_MQTT_BROKER_CA_FILE, "
                    + "FLEETKEY_MQTT_BROKER_CLIENT_KEYSTORE): " + e.getMessage(), e);
        }
    }

    /**
     * The first connection: the embedded broker is up by now, so failing here is a fault; an
     * external one may still be starting, so the server keeps trying and stays not ready (/health).
     */
    private void connect() {
        try {
            IMqttToken token = client.connect(options);
            token.waitForCompletion(CONNECT_TIMEOUT.toMillis());
            onConnected(token);
        } catch (MqttException e) {
            if (embedded) {
                throw new ConfigurationException("The MQTT listener could not log in to the embedded broker: " + e, e);
            }
            LOG.warn("Cannot reach {} yet ({}); EST over MQTT waits for it and /health says DOWN. Check "
                    + "FLEETKEY_MQTT_BROKER_URL and the broker's credentials", brokerDescription, e.getMessage());
            reconnect();
        }
    }

    /** Starts {@link #keepConnecting} unless it runs already. */
    private void reconnect() {
        if (!stopping && reconnecting.compareAndSet(false, true)) {
            try {
                executor.execute(this::keepConnecting);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                reconnecting.set(false); // the server is stopping
            }
        }
    }

    private void keepConnecting() {
        try {
            connectUntilConnected();
        } finally {
            reconnecting.set(false);
        }
        if (!client.isConnected()) {
            reconnect(); // lost again while this run was ending: its disconnect found the run still on
        }
    }

    private void connectUntilConnected() {
        long delay = 1_000;
        while (!stopping && !client.isConnected() && !Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(delay);
                IMqttToken token = client.connect(options);
                token.waitForCompletion(ATTEMPT_TIMEOUT.toMillis());
                onConnected(token);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (MqttException e) {
                if (e.getReasonCode() == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CLIENT_CLOSED) {
                    return;
                }
                LOG.warn("Still cannot reach {}: {}", brokerDescription, e.getMessage());
                if (e.getReasonCode() == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CLIENT_TIMEOUT
                        || e.getReasonCode() == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CONNECT_IN_PROGRESS) {
                    // Waiting gave up, but Paho still counts the attempt as running and refuses every new
                    // one ("Connect already in progress") until it is dropped.
                    abandonAttempt();
                }
                if (client.isConnected()) { // connected, but the subscription failed: start over
                    try {
                        client.disconnect().waitForCompletion(CONNECT_TIMEOUT.toMillis());
                    } catch (MqttException ignored) {
                        // the next attempt connects afresh
                    }
                }
                delay = Math.min(delay * 2, 10_000);
            }
        }
    }

    private void abandonAttempt() {
        try {
            client.disconnectForcibly(0, 1_000, false);
        } catch (MqttException ignored) {
            // nothing was left to drop
        }
    }

    private void onConnected(IMqttToken connect) throws MqttException {
        MqttProperties granted = connect.getResponseProperties();
        Integer receiveMaximum = granted == null ? null : granted.getReceiveMaximum();
        sendWindow = new Semaphore(receiveMaximum == null ? 65_535 : receiveMaximum);
        subscribe();
    }

    private void subscribe() throws MqttException {
        IMqttToken token = client.subscribe(new MqttSubscription(MqttTopics.serverRequests(), 1));
        token.waitForCompletion(CONNECT_TIMEOUT.toMillis());
        int[] codes = token.getReasonCodes();
        if (codes == null || codes.length == 0 || codes[0] > 2) {
            String code = codes == null || codes.length == 0 ? "none" : "0x" + Integer.toHexString(codes[0]);
            throw new MqttException(new IllegalStateException("the broker refused the subscription to "
                    + MqttTopics.serverRequests() + " (reason code " + code + "); it must allow the server's "
                    + "client to read every request"));
        }
        readiness.ready(NAME);
        LOG.info("EST over MQTT: answering requests on {} ({})", MqttTopics.serverRequests(), brokerDescription);
        republishStandingNotices();
    }

    /** A request arrived (on Paho's callback thread, which must not block). */
    private void arrived(String topic, MqttMessage message) {
        Optional<MqttTopics.Request> parsed = MqttTopics.parseRequest(topic);
        if (parsed.isEmpty()) {
            // The subscription cannot match anything else; a broker that misroutes is logged, not answered.
            RejectedTraffic.log(DOOR, "dropped a message on '" + DeviceAuthenticator.printable(topic, 200)
                    + "': not a request topic");
            acknowledge(message);
            return;
        }
        MqttTopics.Request request = parsed.get();
        if (!isEnrollment(request)) {
            // crts, att and unknown operations change nothing: answered again, never kept, so no
            // device can fill the reply cache with them.
            run(() -> {
                try {
                    send(request, message, answer(request, message));
                } finally {
                    acknowledge(message);
                }
            }, request, message);
            return;
        }
        RequestKey key = new RequestKey(request.deviceId(), request.operation(), request.requestId());
        CompletableFuture<MqttReply> fresh = new CompletableFuture<>();
        CompletableFuture<MqttReply> earlier = replies.asMap().putIfAbsent(key, fresh);
        if (earlier != null) {
            // A duplicate delivery: the same answer once the first is done, and no second certificate.
            earlier.whenCompleteAsync((answer, failure) -> {
                try {
                    send(request, message, answer);
                } finally {
                    acknowledge(message);
                }
            }, executor);
            return;
        }
        boolean started = run(() -> {
            try {
                MqttReply answer = answer(request, message);
                fresh.complete(answer);
                send(request, message, answer);
            } finally {
                fresh.complete(null);
                acknowledge(message);
            }
        }, request, message);
        if (!started) {
            replies.invalidate(key); // nothing was done: a redelivery must run it
            fresh.complete(null);
        }
    }

    private static boolean isEnrollment(MqttTopics.Request request) {
        return request.estOperation().filter(op -> op == EstOperation.SIMPLE_ENROLL
                || op == EstOperation.SIMPLE_REENROLL).isPresent();
    }

    /** Off Paho's callback thread; a server that is shutting down still answers. False when the task could not start. */
    private boolean run(Runnable task, MqttTopics.Request request, MqttMessage message) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            try {
                send(request, message, handler.refusal(FailureCode.UNAVAILABLE, "the server is shutting down; retry later"));
            } finally {
                acknowledge(message);
            }
            return false;
        }
    }

    private MqttReply answer(MqttTopics.Request request, MqttMessage message) {
        try {
            MqttProperties properties = message.getProperties();
            MqttEstHandler.Incoming in = new MqttEstHandler.Incoming(message.getPayload(),
                    properties == null ? null : properties.getContentType(),
                    userProperty(properties, "accept").orElse(null), proofOf(request, message));
            return handler.handle(request, in);
        } catch (RuntimeException e) {
            LOG.error("EST over MQTT: {} of device {} failed", request.operation(), request.deviceId(), e);
            return handler.internalError();
        }
    }

    /**
     * On the embedded broker: what {@link ChannelStamp} says. Through an external broker nothing
     * is known, and a token is trusted only if the operator says devices always use TLS there.
     */
    private ChannelProof proofOf(MqttTopics.Request request, MqttMessage message) {
        if (!embedded) {
            return new ChannelProof.Named(request.deviceId(), settings.getBroker().isDevicesUseTls());
        }
        List<X509Certificate> chain = new ArrayList<>();
        MqttProperties properties = message.getProperties();
        if (properties != null && properties.getUserProperties() != null) {
            try {
                CertificateFactory factory = CertificateFactory.getInstance("X.509");
                for (UserProperty p : properties.getUserProperties()) {
                    if (ChannelStamp.CLIENT_CERTIFICATE.equals(p.getKey())) {
                        chain.add((X509Certificate) factory.generateCertificate(
                                new java.io.ByteArrayInputStream(Base64.getDecoder().decode(p.getValue()))));
                    }
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalStateException("the embedded broker's client certificate stamp is unreadable", e);
            }
        }
        // The embedded broker admits devices without TLS only under its development switch.
        return chain.isEmpty() ? new ChannelProof.Named(request.deviceId(), true)
                : new ChannelProof.ClientCertificate(chain);
    }

    private void send(MqttTopics.Request request, MqttMessage question, MqttReply reply) {
        if (reply == null) {
            reply = handler.internalError();
        }
        MqttProperties asked = question.getProperties();
        String topic = MqttTopics.response(request.deviceId(), request.operation(), request.requestId(), reply.status());
        String responseTopic = asked == null ? null : asked.getResponseTopic();
        if (responseTopic != null && MqttTopics.isDeviceResponseTopic(request.deviceId(), responseTopic)) {
            topic = responseTopic;
        }
        MqttMessage message = new MqttMessage(reply.payload(), 1, false, null);
        MqttProperties properties = new MqttProperties();
        properties.setContentType(reply.contentType());
        properties.setUserProperties(List.of(new UserProperty("status", reply.status())));
        if (asked != null && asked.getCorrelationData() != null) {
            properties.setCorrelationData(asked.getCorrelationData());
        }
        message.setProperties(properties);
        publish(topic, message, "answer " + reply.status() + " to " + request.operation() + " of " + request.deviceId());
    }

    /** Publishes within the broker's Receive Maximum; a lost answer is safe, the device asks again. */
    void publish(String topic, MqttMessage message, String what) {
        Semaphore window = sendWindow;
        try {
            if (!window.tryAcquire(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("EST over MQTT: could not {}: the broker acknowledges nothing", what);
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            client.publish(topic, message, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    window.release();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    window.release();
                    LOG.warn("EST over MQTT: could not {}: {}", what, failure.toString());
                }
            });
        } catch (MqttException e) {
            window.release();
            LOG.warn("EST over MQTT: could not {}: {}", what, e.getMessage());
        }
    }

    private void acknowledge(MqttMessage message) {
        try {
            client.messageArrivedComplete(message.getId(), message.getQos());
        } catch (MqttException | RuntimeException e) {
            // The connection went away; the broker delivers the request again (or the device retries).
            LOG.debug("could not acknowledge request {}: {}", message.getId(), e.toString());
        }
    }

    private static Optional<String> userProperty(MqttProperties properties, String name) {
        if (properties == null || properties.getUserProperties() == null) {
            return Optional.empty();
        }
        return properties.getUserProperties().stream().filter(p -> name.equals(p.getKey()))
                .map(UserProperty::getValue).findFirst();
    }

    private static String randomSuffix() {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Tells a device something on its events topic. A revocation is retained, so a device that
     * connects later still learns it; Paho holds messages while the broker is away.
     */
    @EventListener
    void onNotice(DeviceNotice notice) {
        try {
            publishNotice(notice);
        } catch (RuntimeException e) { // a listener that throws would keep later listeners from the event
            LOG.warn("EST over MQTT: could not publish the {} notice of {}: {}", notice.kind(), notice.deviceId(),
                    e.toString());
        }
    }

    private void publishNotice(DeviceNotice notice) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("event", notice.kind().wireName());
        body.put("deviceId", notice.deviceId());
        body.put("at", notice.at().toString());
        if (notice.reason() != null) {
            body.put("reason", notice.reason());
        }
        byte[] payload;
        try {
            payload = json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        MqttMessage message = new MqttMessage(payload, 1, notice.kind() == DeviceNotice.Kind.REVOKED, null);
        MqttProperties properties = new MqttProperties();
        properties.setContentType(MqttEstHandler.JSON);
        message.setProperties(properties);
        executor.execute(() -> publish(MqttTopics.events(notice.deviceId()), message,
                "publish the " + notice.kind().wireName() + " notice of " + notice.deviceId()));
    }

    /** Retained revocation notices again: the embedded broker keeps them in memory only, as may others. */
    private void republishStandingNotices() {
        executor.execute(() -> {
            try {
                List<DeviceNotice> notices = enrollment.standingNotices();
                notices.forEach(this::onNotice);
                if (!notices.isEmpty()) {
                    LOG.info("EST over MQTT: published the retained revocation notices of {} device(s)", notices.size());
                }
            } catch (RuntimeException e) {
                LOG.warn("EST over MQTT: could not publish the standing revocation notices: {}", e.toString());
            }
        });
    }

    /** True while the listener is connected and subscribed. */
    public boolean isConnected() {
        return client.isConnected();
    }

    @PreDestroy
    void stop() {
        stopping = true;
        try {
            if (client.isConnected()) {
                client.disconnect(5_000).waitForCompletion(10_000);
            }
        } catch (MqttException e) {
            LOG.debug("MQTT listener disconnect: {}", e.toString());
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.debug("MQTT listener close: {}", e.toString());
        }
    }

    private record RequestKey(String deviceId, String operation, String requestId) {
    }

    private final class Callback implements MqttCallback {
        @Override
        public void messageArrived(String topic, MqttMessage message) {
            arrived(topic, message);
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            // connectUntilConnected subscribes after each connection (a clean start forgets subscriptions)
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            readiness.down(NAME);
            LOG.warn("EST over MQTT: lost {} ({}); reconnecting", brokerDescription, response);
            reconnect();
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            LOG.warn("EST over MQTT: {}", exception.toString());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // acknowledged through the publish listener
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // no enhanced authentication
        }
    }
}
