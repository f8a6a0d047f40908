package io.fleetkey.server.transport.mqtt;

import java.util.EnumSet;
import java.util.Set;

import com.hivemq.extension.sdk.api.client.parameter.Listener;
import com.hivemq.extension.sdk.api.events.client.ClientLifecycleEventListener;
import com.hivemq.extension.sdk.api.events.client.parameters.AuthenticationSuccessfulInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionStartInput;
import com.hivemq.extension.sdk.api.events.client.parameters.DisconnectEventInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ServerInitiatedDisconnectInput;
import com.hivemq.extension.sdk.api.packets.general.DisconnectedReasonCode;
import io.fleetkey.server.enrollment.RejectedTraffic;

/**
 * The broker's own refusals after CONNECT: a client that publishes or behaves outside its rules
 * is disconnected by HiveMQ (default permissions), and this reports it on the rate-limited
 * rejected-traffic log, as the authenticator does for refused logins. A session taken over by
 * a second connection with the same client id is reported too.
 */
final class DisconnectLog implements ClientLifecycleEventListener {
    private static final Set<DisconnectedReasonCode> ROUTINE = EnumSet.of(DisconnectedReasonCode.SUCCESS,
            DisconnectedReasonCode.NORMAL_DISCONNECTION, DisconnectedReasonCode.DISCONNECT_WITH_WILL_MESSAGE,
            DisconnectedReasonCode.SERVER_SHUTTING_DOWN, DisconnectedReasonCode.KEEP_ALIVE_TIMEOUT,
            DisconnectedReasonCode.ADMINISTRATIVE_ACTION, DisconnectedReasonCode.MAXIMUM_CONNECT_TIME);

    @Override
    public void onServerInitiatedDisconnect(ServerInitiatedDisconnectInput input) {
        DisconnectedReasonCode code = input.getReasonCode().orElse(DisconnectedReasonCode.UNSPECIFIED_ERROR);
        if (ROUTINE.contains(code)) {
            return;
        }
        RejectedTraffic.log(DeviceAuthenticator.DOOR, "client '"
                + DeviceAuthenticator.printable(input.getClientInformation().getClientId(), 80) + "' from "
                + input.getConnectionInformation().getInetAddress().map(a -> a.getHostAddress()).orElse("?")
                + " via " + input.getConnectionInformation().getListener().map(Listener::getName).orElse("?")
                + " disconnected (" + code + ")"
                + input.getReasonString().map(r -> ": " + DeviceAuthenticator.printable(r, 300)).orElse(""));
    }

    @Override
    public void onMqttConnectionStart(ConnectionStartInput input) {
    }

    @Override
    public void onAuthenticationSuccessful(AuthenticationSuccessfulInput input) {
    }

    @Override
    public void onDisconnect(DisconnectEventInput input) {
    }
}
