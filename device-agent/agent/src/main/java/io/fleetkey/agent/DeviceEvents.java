package io.fleetkey.agent;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import javax.net.ssl.SSLContext;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.fleetkey.protocol.MqttTopics;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Listens on the device's events topic ({@code fleetkey/v1/dev/<id>/events}, docs/mqtt-protocol.md)
 * and hands each notice to the agent: {@code revoked} (retained, so a device that was off hears
 * it on connect) and {@code renew-now}. Connects with the device's current certificate as
 * client id {@code <id>:events}, connecting and reconnecting on its own thread while the broker
 * is away. A closed listener never reconnects, so two listeners of one device never fight over
 * the client id.
 */
public final class DeviceEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceEvents.class.getName());
    private static final long FIRST_RETRY_MILLIS = 1_000;
    private static final long LAST_RETRY_MILLIS = 60_000;
    private static final long WAIT_MILLIS = 30_000;

    /** A notice from the server. */
    public record Notice(String event, String reason) {
    }

    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final String topic;
    /** Reconnects run here, not in Paho: its automatic reconnect keeps its back-off in a static field. */
    private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fleetkey-device-events");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    private final Runnable onListening;
    private final java.util.function.BiConsumer<String, Long> onProblem;

    private DeviceEvents(MqttAsyncClient client, MqttConnectionOptions options, String topic, Runnable onListening,
                         java.util.function.BiConsumer<String, Long> onProblem) {
        this.client = client;
        this.options = options;
        this.topic = topic;
        this.onListening = onListening;
        this.onProblem = onProblem;
    }

    /**
     * Starts listening and returns at once: connecting, subscribing and every later reconnect run
     * on the listener's own thread, retried with back-off until {@link #close}, so the caller's
     * thread never waits inside the MQTT client (which would swallow an interrupt).
     *
     * @param tls         presents the device's current certificate (the agent's SSL context)
     * @param onListening told each time the subscription stands (first time and after reconnects)
     * @param onProblem   told why an attempt failed, with the seconds until the next one
     * @throws IllegalArgumentException when the broker URI is not one the MQTT client accepts
     */
    public static DeviceEvents start(URI broker, String deviceId, SSLContext tls, Consumer<Notice> onNotice,
                                     Runnable onListening, java.util.function.BiConsumer<String, Long> onProblem) {
        String topic = MqttTopics.events(deviceId);
        MqttAsyncClient client;
        try {
            client = new MqttAsyncClient(broker.toString(), deviceId + ":events", new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("cannot listen for device events at " + broker + ": "
                    + e.getMessage(), e);
        }
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(60);
        options.setSocketFactory(tls.getSocketFactory());
        options.setHttpsHostnameVerificationEnabled(true);
        DeviceEvents self = new DeviceEvents(client, options, topic, onListening, onProblem);
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                if (!self.closed) {
                    LOG.log(Level.INFO, "Device events: the broker went away ({0}); reconnecting", response);
                    self.reconnectIn(FIRST_RETRY_MILLIS);
                }
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                LOG.log(Level.WARNING, "Device events: {0}", exception.getMessage());
            }

            @Override
            public void messageArrived(String arrivedOn, MqttMessage message) {
                Map<String, Object> body;
                try {
                    body = JSONObjectUtils.parse(new String(message.getPayload(), StandardCharsets.UTF_8));
                } catch (java.text.ParseException e) {
                    LOG.log(Level.WARNING, "Device events: a message that is not JSON on {0}", arrivedOn);
                    return;
                }
                if (!(body.get("event") instanceof String event)) {
                    LOG.log(Level.WARNING, "Device events: a message without an event on {0}", arrivedOn);
                    return;
                }
                onNotice.accept(new Notice(event, body.get("reason") instanceof String r ? r : null));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        self.attemptIn(0, FIRST_RETRY_MILLIS);
        return self;
    }

    private void connectAndSubscribe() throws MqttException {
        client.connect(options).waitForCompletion(WAIT_MILLIS);
        client.subscribe(topic, 1).waitForCompletion(WAIT_MILLIS); // a clean start forgets subscriptions
    }

    /** After a lost connection: the first attempt soon, with jitter so a fleet does not come back at once. */
    private void reconnectIn(long delayMillis) {
        attemptIn(delayMillis / 2 + ThreadLocalRandom.current().nextLong(delayMillis / 2 + 1), delayMillis);
    }

    /** One attempt after {@code waitMillis}; a failure tries again after a delay that doubles up to a minute. */
    private void attemptIn(long waitMillis, long backoffMillis) {
        try {
            reconnects.schedule(() -> {
                if (closed || client.isConnected()) {
                    return;
                }
                try {
                    connectAndSubscribe();
                    onListening.run();
                } catch (MqttException e) {
                    if (!closed) {
                        if (client.isConnected()) {
                            closeConnection();
                        }
                        long next = Math.min(backoffMillis * 2, LAST_RETRY_MILLIS);
                        onProblem.accept(e.getMessage(), next / 1000);
                        reconnectIn(next);
                    }
                }
            }, waitMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private void closeConnection() {
        try {
            client.disconnect().waitForCompletion(2_000);
        } catch (MqttException e) {
            // the next attempt connects afresh
        }
    }

    @Override
    public void close() {
        closed = true;
        reconnects.shutdownNow();
        if (client.isConnected()) {
            closeConnection();
        }
        closeQuietly(client);
    }

    private static void closeQuietly(MqttAsyncClient client) {
        try {
            client.close(true);
        } catch (MqttException e) {
            // closing anyway
        }
    }
}
