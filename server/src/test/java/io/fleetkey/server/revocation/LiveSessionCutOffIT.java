package io.fleetkey.server.revocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.MqttTestClient;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import io.fleetkey.server.transport.mqtt.EmbeddedBroker;
import io.fleetkey.server.transport.mqtt.InternalCredentials;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.dtls.AlertMessage;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A revocation reaches the sessions a device holds open: the embedded broker disconnects its MQTT
 * connection and refuses it from then on, its DTLS sessions end, and the retained "revoked" notice
 * waits on its events topic. Each time from the API call is printed, for docs/revocation.md.
 */
class LiveSessionCutOffIT {
    private static final int CF_PKCS7 = 281;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.withMqtt());
        server.createGroup("live", "device");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private record Enrolled(String id, KeyPair keys, X509Certificate cert) {
    }

    private static Enrolled enrolled(String id) {
        String token = server.registerDevice(id, "live");
        KeyPair keys = TestPki.p256();
        var r = server.est(server.client(), "simpleenroll", TestPki.csr(id, keys), id, token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new Enrolled(id, keys, TestServer.issuedCertificate(r));
    }

    private static void revoke(String id) {
        var r = server.api("POST", "/api/v1/devices/" + id + "/revoke", Json.write(Map.of("reason", "keyCompromise")));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static MqttTestClient connected(Enrolled d) throws Exception {
        return MqttTestClient.tls(server.mqttsPort(), server.caChain().get(server.caChain().size() - 1), d.id(), null,
                d.keys(), server.withIssuingCa(d.cert()));
    }

    @Test
    void a_revoked_device_connected_to_the_embedded_broker_hears_why_is_disconnected_within_a_second_and_stays_out()
            throws Exception {
        Enrolled d = enrolled("live-mqtt-1");
        try (MqttTestClient device = connected(d)) {
            assertThat(device.subscribe(MqttTopics.deviceEvents(d.id()))).isEqualTo(1);

            long called = System.nanoTime();
            revoke(d.id());
            long answered = System.nanoTime();

            MqttTestClient.Received notice = device.next(5);
            long noticed = System.nanoTime();
            assertThat(notice).as("the revoked notice reaches the device before the cut").isNotNull();
            assertThat(Json.field(notice.text(), "event")).isEqualTo("revoked");

            MqttDisconnectResponse cut = device.disconnectedBy(5);
            long disconnected = System.nanoTime();
            assertThat(cut).as("the broker disconnects the revoked device").isNotNull();
            assertThat(cut.getReturnCode()).as("MQTT 5 reason: not authorized").isEqualTo(0x87);
            assertThat(cut.getReasonString()).contains("revoked");
            assertThat(Duration.ofNanos(disconnected - called)).isLessThan(Duration.ofSeconds(1));
            System.out.printf("MQTT cut-off of %s: API answered after %d ms, notice after %d ms, disconnected after"
                            + " %d ms (from the API call)%n", d.id(), ms(answered - called), ms(noticed - called),
                    ms(disconnected - called));
        }
        assertThat(catchThrowable(() -> connected(d).close())).as("a revoked device cannot reconnect")
                .isInstanceOf(org.eclipse.paho.mqttv5.common.MqttException.class);

        // The retained notice is there for whoever looks later (the server's own login here, as the
        // device itself is no longer let in).
        EmbeddedBroker broker = server.context().getBean(EmbeddedBroker.class);
        try (MqttTestClient observer = MqttTestClient.plain(server.mqttPort(),
                InternalCredentials.CLIENT_ID_PREFIX + "observer", InternalCredentials.USERNAME,
                broker.internalCredentials().password())) {
            assertThat(observer.subscribe(MqttTopics.events(d.id()))).isEqualTo(1);
            MqttTestClient.Received later = observer.next(5);
            assertThat(later).isNotNull();
            assertThat(later.retained()).isTrue();
            assertThat(Json.field(later.text(), "event")).isEqualTo("revoked");
        }
    }

    @Test
    void other_devices_stay_connected_when_one_is_revoked() throws Exception {
        Enrolled revoked = enrolled("live-mqtt-2");
        Enrolled bystander = enrolled("live-mqtt-3");
        try (MqttTestClient a = connected(revoked); MqttTestClient b = connected(bystander)) {
            revoke(revoked.id());
            assertThat(a.disconnectedBy(5)).isNotNull();
            assertThat(b.disconnectedBy(1)).isNull();
            assertThat(b.isConnected()).isTrue();
        }
    }

    @Test
    void the_dtls_session_of_a_revoked_device_ends_within_a_second_and_a_new_handshake_is_refused() throws Exception {
        Enrolled d = enrolled("live-dtls-1");
        Enrolled bystander = enrolled("live-dtls-2");
        try (CoapsTestClient device = CoapsTestClient.to(server).identity(d.keys(), server.withIssuingCa(d.cert()))
                .timeout(Duration.ofSeconds(5)).build();
             CoapsTestClient other = CoapsTestClient.to(server)
                     .identity(bystander.keys(), server.withIssuingCa(bystander.cert())).build()) {
            CompletableFuture<AlertMessage> closed = new CompletableFuture<>();
            ((DTLSConnector) device.endpoint().getConnector()).setAlertHandler((peer, alert) -> {
                if (alert.getDescription() == AlertMessage.AlertDescription.CLOSE_NOTIFY) {
                    closed.complete(alert);
                }
            });
            CompletableFuture<AlertMessage> otherClosed = new CompletableFuture<>();
            ((DTLSConnector) other.endpoint().getConnector()).setAlertHandler((peer, alert) -> otherClosed.complete(alert));
            assertThat(code(device.get(CoapsTestClient.EST + "crts", CF_PKCS7))).isEqualTo(ResponseCode.CONTENT);
            assertThat(code(other.get(CoapsTestClient.EST + "crts", CF_PKCS7))).isEqualTo(ResponseCode.CONTENT);

            long called = System.nanoTime();
            revoke(d.id());
            closed.get(5, TimeUnit.SECONDS);
            long ended = System.nanoTime();
            assertThat(Duration.ofNanos(ended - called)).isLessThan(Duration.ofSeconds(1));
            System.out.printf("DTLS cut-off of %s: close_notify after %d ms (from the API call)%n", d.id(),
                    ms(ended - called));

            // The client must handshake again, and the handshake's certificate check refuses it.
            CoapResponse again;
            try {
                again = device.get(CoapsTestClient.EST + "crts", CF_PKCS7);
            } catch (Exception refused) { // the handshake failed: what a revoked device should see
                again = null;
            }
            assertThat(again).as("no answer over a new session").isNull();
            // The other device's session is untouched.
            assertThat(otherClosed).isNotDone();
            assertThat(code(other.get(CoapsTestClient.EST + "crts", CF_PKCS7))).isEqualTo(ResponseCode.CONTENT);
        }
    }

    private static ResponseCode code(CoapResponse r) {
        assertThat(r).as("a response").isNotNull();
        return r.getCode();
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
