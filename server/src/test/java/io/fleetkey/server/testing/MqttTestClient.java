package io.fleetkey.server.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

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

/**
 * An MQTT 5 client (Paho) for broker tests: connects over TLS (trusting only the server's root,
 * checking its host name, optionally with a client certificate) or plain TCP, and records what
 * arrives and why the broker hung up. Never blocks inside Paho's callbacks.
 */
public final class MqttTestClient implements AutoCloseable {
    public record Received(String topic, byte[] payload, MqttProperties properties, boolean retained) {
        /** A user property of the message, or null. */
        public String userProperty(String name) {
            if (properties == null || properties.getUserProperties() == null) {
                return null;
            }
            return properties.getUserProperties().stream().filter(p -> p.getKey().equals(name))
                    .map(p -> p.getValue()).findFirst().orElse(null);
        }

        public String text() {
            return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final MqttAsyncClient client;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<MqttDisconnectResponse> disconnected = new CompletableFuture<>();

    private MqttTestClient(String uri, String clientId) throws MqttException {
        this.client = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                disconnected.complete(response);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.add(new Received(topic, message.getPayload(), message.getProperties(), message.isRetained()));
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
    }

    /** Connects over TLS to localhost:port; keys/chain may be null (no client certificate). */
    public static MqttTestClient tls(int port, X509Certificate root, String clientId, String username,
                                     KeyPair keys, List<X509Certificate> chain) throws MqttException {
        MqttTestClient c = new MqttTestClient("ssl://localhost:" + port, clientId);
        c.connect(username, null, sslFactory(root, keys, chain));
        return c;
    }

    /** Connects over plain TCP to 127.0.0.1:port. */
    public static MqttTestClient plain(int port, String clientId, String username, byte[] password) throws MqttException {
        MqttTestClient c = new MqttTestClient("tcp://127.0.0.1:" + port, clientId);
        c.connect(username, password, null);
        return c;
    }

    private void connect(String username, byte[] password, SSLSocketFactory ssl) throws MqttException {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setConnectionTimeout(15);
        options.setAutomaticReconnect(false);
        if (username != null) {
            options.setUserName(username);
        }
        if (password != null) {
            options.setPassword(password);
        }
        if (ssl != null) {
            options.setSocketFactory(ssl);
        }
        try {
            client.connect(options).waitForCompletion(20_000);
        } catch (MqttException e) {
            closeQuietly();
            throw e;
        }
    }

    /** Subscribes with QoS 1; returns the SUBACK reason code (0-2 granted, 0x80 and up refused). */
    public int subscribe(String filter) throws MqttException {
        IMqttToken token = client.subscribe(new MqttSubscription[]{new MqttSubscription(filter, 1)});
        token.waitForCompletion(10_000);
        return token.getReasonCodes()[0];
    }

    /** Publishes with QoS 1, not retained; returns the PUBACK reason code. */
    public int publish(String topic, byte[] payload) throws MqttException {
        return publish(topic, payload, new MqttProperties());
    }

    /** Publishes with QoS 1 and the given MQTT 5 properties; returns the PUBACK reason code. */
    public int publish(String topic, byte[] payload, MqttProperties properties) throws MqttException {
        IMqttToken token = client.publish(topic, new MqttMessage(payload, 1, false, properties));
        token.waitForCompletion(10_000);
        int[] codes = token.getReasonCodes();
        return codes == null || codes.length == 0 ? 0 : codes[0];
    }

    public Received next(long seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    /** Why the broker disconnected this client, waiting at most the given time; null if it did not. */
    public MqttDisconnectResponse disconnectedBy(long seconds) throws Exception {
        try {
            return disconnected.get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        try {
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(5_000);
            }
        } catch (MqttException ignored) {
            // already gone
        }
        try {
            client.close(true);
        } catch (MqttException ignored) {
            // already closed
        }
    }

    /** TLS trusting only {@code root}; with {@code keys}, presents {@code chain} as client certificate. */
    public static SSLSocketFactory sslFactory(X509Certificate root, KeyPair keys, List<X509Certificate> chain) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (keys != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("device", keys.getPrivate(), "x".toCharArray(), chain.toArray(Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, "x".toCharArray());
            }
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return io.fleetkey.server.transport.mqtt.NoDelaySockets.tls(ssl.getSocketFactory());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
