package io.fleetkey.server.transport.mqtt;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.hivemq.extension.sdk.api.client.ClientContext;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionInformation;
import com.hivemq.extension.sdk.api.client.parameter.InitializerInput;
import com.hivemq.extension.sdk.api.client.parameter.Listener;
import com.hivemq.extension.sdk.api.interceptor.publish.PublishInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundInput;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundOutput;
import com.hivemq.extension.sdk.api.packets.general.ModifiableUserProperties;
import com.hivemq.extension.sdk.api.services.intializer.ClientInitializer;

/**
 * Through a broker the server cannot see a device's TLS session; inside its own broker it can.
 * Every PUBLISH of a device on the embedded broker gets user properties saying how the device is
 * connected: {@value #CHANNEL} ({@code tls} or {@code plain}) and, when it presented one, its
 * client certificate chain ({@value #CLIENT_CERTIFICATE}, base64 DER, leaf first; the TLS
 * handshake proved the key). Properties of those names a device set itself are removed first,
 * so only the broker can speak them. The listener believes them only on the embedded broker.
 */
final class ChannelStamp implements ClientInitializer {
    static final String CHANNEL = "fleetkey-channel";
    static final String CLIENT_CERTIFICATE = "fleetkey-client-certificate";
    static final String TLS = "tls";
    static final String PLAIN = "plain";

    @Override
    public void initialize(InitializerInput input, ClientContext context) {
        if (input.getClientInformation().getClientId().startsWith(InternalCredentials.CLIENT_ID_PREFIX)) {
            return; // the server's own client; the authenticator keeps devices out of this prefix
        }
        context.addPublishInboundInterceptor(new Stamper(stampOf(input.getConnectionInformation())));
    }

    /** Worked out once per connection: the session does not change while it lasts. */
    private static List<String[]> stampOf(ConnectionInformation connection) {
        boolean tls = connection.getListener().map(Listener::getName).filter(EmbeddedBroker.TLS_LISTENER::equals)
                .isPresent();
        List<String[]> properties = new ArrayList<>();
        properties.add(new String[]{CHANNEL, tls ? TLS : PLAIN});
        for (X509Certificate certificate : DeviceAuthenticator.clientChain(connection).orElse(List.of())) {
            try {
                properties.add(new String[]{CLIENT_CERTIFICATE,
                        Base64.getEncoder().encodeToString(certificate.getEncoded())});
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("a client certificate the TLS layer accepted cannot be encoded", e);
            }
        }
        return List.copyOf(properties);
    }

    private record Stamper(List<String[]> stamp) implements PublishInboundInterceptor {
        @Override
        public void onInboundPublish(PublishInboundInput input, PublishInboundOutput output) {
            ModifiableUserProperties properties = output.getPublishPacket().getUserProperties();
            properties.removeName(CHANNEL);
            properties.removeName(CLIENT_CERTIFICATE);
            for (String[] property : stamp) {
                properties.addUserProperty(property[0], property[1]);
            }
        }
    }
}
