package io.fleetkey.server.transport.mqtt;

import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;

import com.hivemq.extension.sdk.api.async.Async;
import com.hivemq.extension.sdk.api.async.TimeoutFallback;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.TopicPermission;
import com.hivemq.extension.sdk.api.client.parameter.ClientTlsInformation;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionInformation;
import com.hivemq.extension.sdk.api.client.parameter.Listener;
import com.hivemq.extension.sdk.api.packets.auth.DefaultAuthorizationBehaviour;
import com.hivemq.extension.sdk.api.packets.auth.ModifiableDefaultPermissions;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.enrollment.ChainRefusal;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.RejectedTraffic;

/**
 * Decides every MQTT CONNECT on the embedded broker, and what the client may then touch.
 *
 * <ul>
 *   <li><b>The server's own client</b>: username {@value InternalCredentials#USERNAME}, the
 *       per-start password, a client id under {@value InternalCredentials#CLIENT_ID_PREFIX};
 *       every topic.</li>
 *   <li><b>A device with a certificate</b> (TLS listener): the chain must pass
 *       {@link EnrollmentService#screenClientChain} (the DTLS handshake's rule: a current,
 *       unrevoked Fleetkey device certificate, or an IDevID under some group's maker CA), and the
 *       client id must be the device id the certificate names.</li>
 *   <li><b>A device without a certificate</b> (a token device before its first one): username =
 *       client id = a registered, unrevoked device id; on the TLS listener, and on the plain one
 *       only with the development switch. Its token is checked later, in its CSR.</li>
 * </ul>
 * While the server's own client is not subscribed to the requests (the broker has just started,
 * or the client lost its connection), devices are refused with Server unavailable (0x88): a
 * request published then would reach no one, and the device would wait for an answer in vain.
 * <p>
 * A device may publish its own requests and subscribe to its own answers and events
 * (docs/mqtt-protocol.md, "Who may publish what"); anything else is denied, and the broker
 * disconnects a client that publishes outside its rules. Every refusal goes to
 * {@link RejectedTraffic}. Registry look-ups run on the blocking executor, not on HiveMQ's
 * network threads.
 */
final class DeviceAuthenticator implements SimpleAuthenticator {
    static final String DOOR = "MQTT";
    private static final Duration DECISION_TIMEOUT = Duration.ofSeconds(10);

    private final EnrollmentService enrollment;
    private final InternalCredentials internal;
    private final boolean allowPlainDevices;
    private final Executor blocking;
    private final BooleanSupplier doorNotListening;

    /** @param doorNotListening true while the server's EST listener is not subscribed to the requests */
    DeviceAuthenticator(EnrollmentService enrollment, InternalCredentials internal, boolean allowPlainDevices,
                        Executor blocking, BooleanSupplier doorNotListening) {
        this.enrollment = enrollment;
        this.internal = internal;
        this.allowPlainDevices = allowPlainDevices;
        this.blocking = blocking;
        this.doorNotListening = doorNotListening;
    }

    @Override
    public void onConnect(SimpleAuthInput input, SimpleAuthOutput output) {
        String clientId = input.getClientInformation().getClientId();
        ConnectionInformation connection = input.getConnectionInformation();
        Optional<String> username = input.getConnectPacket().getUserName();
        boolean tls = connection.getListener().map(Listener::getName).filter(EmbeddedBroker.TLS_LISTENER::equals)
                .isPresent();

        if (username.filter(InternalCredentials.USERNAME::equals).isPresent()) {
            if (internal.matches(input.getConnectPacket().getPassword())
                    && clientId.startsWith(InternalCredentials.CLIENT_ID_PREFIX)) {
                ModifiableDefaultPermissions permissions = output.getDefaultPermissions();
                permissions.add(Builders.topicPermission().topicFilter("#").build());
                output.authenticateSuccessfully();
            } else {
                refuse(output, connection, clientId, ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD,
                        "wrong credentials for the server's own login");
            }
            return;
        }
        if (clientId.startsWith(InternalCredentials.CLIENT_ID_PREFIX)) {
            refuse(output, connection, clientId, ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "client ids starting with '" + InternalCredentials.CLIENT_ID_PREFIX + "' are the server's own");
            return;
        }
        if (doorNotListening.getAsBoolean()) {
            refuse(output, connection, clientId, ConnackReasonCode.SERVER_UNAVAILABLE,
                    "the server is not listening for EST requests yet (starting, or reconnecting to the broker); "
                            + "try again in a moment");
            return;
        }
        Optional<String> named = MqttTopics.deviceOfClientId(clientId);
        if (named.isEmpty()) {
            refuse(output, connection, clientId, ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "the client id must be the device id, or the device id, ':' and a suffix of up to 36 of "
                            + "A-Z a-z 0-9 _ -; " + DeviceIds.rule());
            return;
        }
        String deviceId = named.get();
        Optional<List<X509Certificate>> chain = clientChain(connection);
        if (chain.isPresent()) {
            decideLater(output, connection, deviceId, () -> checkCertificate(chain.get(), deviceId));
            return;
        }
        if (!tls && !allowPlainDevices) {
            refuse(output, connection, clientId, ConnackReasonCode.NOT_AUTHORIZED,
                    "devices connect over TLS (FLEETKEY_MQTTS_PORT); the plain listener is for the server and "
                            + "local tools unless FLEETKEY_MQTT_ALLOW_PLAIN_DEVICES=true");
            return;
        }
        if (!username.filter(deviceId::equals).isPresent()) {
            refuse(output, connection, clientId, ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD,
                    "no client certificate: the username must be the device id the client id names");
            return;
        }
        decideLater(output, connection, deviceId, () -> enrollment.screenDeviceWithoutCertificate(deviceId)
                .map(reason -> new Refusal(ConnackReasonCode.NOT_AUTHORIZED, reason)));
    }

    private Optional<Refusal> checkCertificate(List<X509Certificate> chain, String deviceId) {
        Optional<ChainRefusal> refusal = enrollment.screenClientChain(chain);
        if (refusal.isPresent()) {
            return Optional.of(new Refusal(ConnackReasonCode.NOT_AUTHORIZED,
                    refusal.get().kind() + ": " + refusal.get().reason()));
        }
        if (!enrollment.chainNamesDevice(chain, deviceId)) {
            return Optional.of(new Refusal(ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "the client id must be the device id the certificate '"
                            + chain.get(0).getSubjectX500Principal().getName() + "' names (its CN)"));
        }
        return Optional.empty();
    }

    /** Runs a registry look-up off HiveMQ's threads, then admits the device or refuses it. */
    private void decideLater(SimpleAuthOutput output, ConnectionInformation connection, String deviceId,
                             Decision decision) {
        Async<SimpleAuthOutput> async = output.async(DECISION_TIMEOUT, TimeoutFallback.FAILURE,
                ConnackReasonCode.SERVER_BUSY, "the device check took too long");
        try {
            blocking.execute(() -> {
                try {
                    Optional<Refusal> refusal = decision.decide();
                    if (refusal.isPresent()) {
                        refuse(output, connection, deviceId, refusal.get().code(), refusal.get().reason());
                    } else {
                        devicePermissions(output.getDefaultPermissions(), deviceId);
                        output.authenticateSuccessfully();
                    }
                } catch (RuntimeException e) {
                    refuse(output, connection, deviceId, ConnackReasonCode.UNSPECIFIED_ERROR,
                            "the device check failed: " + e);
                } finally {
                    async.resume();
                }
            });
        } catch (RejectedExecutionException e) {
            refuse(output, connection, deviceId, ConnackReasonCode.SERVER_BUSY, "the server is shutting down");
            async.resume();
        }
    }

    /** docs/mqtt-protocol.md, "Who may publish what"; everything else is denied. */
    static void devicePermissions(ModifiableDefaultPermissions permissions, String deviceId) {
        permissions.add(Builders.topicPermission().topicFilter(MqttTopics.deviceRequests(deviceId))
                .activity(TopicPermission.MqttActivity.PUBLISH)
                .retain(TopicPermission.Retain.NOT_RETAINED).build());
        for (String filter : new String[]{MqttTopics.deviceResponses(deviceId), MqttTopics.deviceEvents(deviceId)}) {
            permissions.add(Builders.topicPermission().topicFilter(filter)
                    .activity(TopicPermission.MqttActivity.SUBSCRIBE)
                    .sharedSubscription(TopicPermission.SharedSubscription.NOT_SHARED).build());
        }
        permissions.setDefaultBehaviour(DefaultAuthorizationBehaviour.DENY);
    }

    static Optional<List<X509Certificate>> clientChain(ConnectionInformation connection) {
        Optional<ClientTlsInformation> tls = connection.getClientTlsInformation();
        Optional<X509Certificate[]> chain = tls.flatMap(ClientTlsInformation::getClientCertificateChain)
                .filter(c -> c.length > 0);
        if (chain.isPresent()) {
            return Optional.of(Arrays.asList(chain.get()));
        }
        return tls.flatMap(ClientTlsInformation::getClientCertificate).map(List::of);
    }

    private static void refuse(SimpleAuthOutput output, ConnectionInformation connection, String clientId,
                               ConnackReasonCode code, String reason) {
        RejectedTraffic.log(DOOR, "connect of client '" + printable(clientId, 80) + "' from "
                + connection.getInetAddress().map(a -> a.getHostAddress()).orElse("?") + " via "
                + connection.getListener().map(Listener::getName).orElse("?") + " refused (" + code + "): "
                + printable(reason, 300));
        output.failAuthentication(code, reason);
    }

    /** Text from the network (client ids, topics, certificate names) made safe for one log line. */
    static String printable(String s, int max) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length() && i < max; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    private record Refusal(ConnackReasonCode code, String reason) {
    }

    @FunctionalInterface
    private interface Decision {
        Optional<Refusal> decide();
    }
}
