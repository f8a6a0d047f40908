package io.fleetkey.agent;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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
 * client id {@code <id>:events}, reconnecting on its own while the broker is away.
 */
public final class DeviceEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceEvents.class.getName());

    /** A notice from the server. */
    public record Notice(String event, String reason) {
    }

    private final MqttAsyncClient client;

    private DeviceEvents(MqttAsyncClient client) {
        this.client = client;
    }

    /**
     * Connects and subscribes; returns once the subscription stands.
     *
     * @param tls presents the device's current certificate (the agent's SSL context)
     */
    public static DeviceEvents listen(URI broker, String deviceId, SSLContext tls, Consumer<Notice> onNotice)
            throws java.io.IOException {
        String topic = MqttTopics.events(deviceId);
        MqttAsyncClient client = null;
        try {
            client = new MqttAsyncClient(broker.toString(), deviceId + ":events", new MemoryPersistence());
            MqttAsyncClient self = client;
            MqttConnectionOptions options = new MqttConnectionOptions();
            options.setCleanStart(true);
            options.setAutomaticReconnect(true);
            options.setAutomaticReconnectDelay(1, 60);
            options.setKeepAliveInterval(60);
            options.setSocketFactory(tls.getSocketFactory());
            options.setHttpsHostnameVerificationEnabled(true);
            client.setCallback(new MqttCallback() {
                @Override
                public void disconnected(MqttDisconnectResponse response) {
                    LOG.log(Level.INFO, "Device events: the broker went away ({0}); reconnecting", response);
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
                    if (reconnect) {
                        try {
                            self.subscribe(topic, 1);
                        } catch (MqttException e) {
                            LOG.log(Level.WARNING, "Device events: cannot subscribe again: {0}", e.getMessage());
                        }
                    }
                }

                @Override
                public void authPacketArrived(int reasonCode, MqttProperties properties) {
                }
            });
            client.connect(options).waitForCompletion(30_000);
            client.subscribe(topic, 1).waitForCompletion(30_000);
            return new DeviceEvents(client);
        } catch (MqttException e) {
            if (client != null) {
                try {
                    client.close(true); // else its automatic reconnect would fight the next attempt's client
                } catch (MqttException ignored) {
                    // closing anyway
                }
            }
            throw new java.io.IOException("cannot listen for device events at " + broker + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(2_000);
            }
            client.close();
        } catch (MqttException e) {
            // closing anyway
        }
    }
}
