package io.fleetkey.server.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.health.DoorReadiness;
import io.fleetkey.server.testing.Mosquitto;
import io.fleetkey.server.testing.MqttTestClient;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker with real clients: Paho MQTT 5 devices and Debian's mosquitto clients
 * over TLS, the server's own login on the plain listener. One server (one HiveMQ start) for
 * the whole class.
 */
class EmbeddedBrokerIT {
    private static final int NOT_AUTHORIZED = 0x87;
    private static final int SERVER_UNAVAILABLE = 0x88;
    private static final int CLIENT_IDENTIFIER_NOT_VALID = 0x85;
    private static final int BAD_USER_NAME_OR_PASSWORD = 0x86;

    private static TestServer server;
    private static X509Certificate root;
    private static MqttTestClient serverSide;
    private static KeyPair meter1Keys;
    private static X509Certificate meter1;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestServer.withMqtt());
        root = server.caChain().get(server.caChain().size() - 1);
        server.createGroup("meters", "device");
        meter1Keys = TestPki.p256();
        meter1 = enroll("meter-0001", meter1Keys);
        server.registerDevice("meter-0002", "meters"); // a token device, no certificate yet
        EmbeddedBroker broker = server.context().getBean(EmbeddedBroker.class);
        serverSide = MqttTestClient.plain(server.mqttPort(), InternalCredentials.CLIENT_ID_PREFIX + "test",
                InternalCredentials.USERNAME, broker.internalCredentials().password());
        // An observer with the server's login (not in the shared group, so the real listener still answers).
        assertThat(serverSide.subscribe("fleetkey/v1/est/+/+/req/+")).isEqualTo(1);
    }

    @AfterAll
    static void stop() {
        if (serverSide != null) {
            serverSide.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static X509Certificate enroll(String deviceId, KeyPair keys) {
        String token = server.registerDevice(deviceId, "meters");
        return TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", TestPki.csr(deviceId, keys),
                deviceId, token));
    }

    @Test
    void the_broker_is_a_door_of_the_health_check_and_keeps_its_secrets_off_disk() throws Exception {
        HttpResponse<String> health = server.send(server.client(), HttpRequest.newBuilder(server.uri("/health")).build());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("UP");
        assertThat(server.context().getBean(DoorReadiness.class).doors()).containsEntry(EmbeddedBroker.NAME, true);

        Path mqtt = server.dataDir().resolve("mqtt");
        assertThat(Files.getPosixFilePermissions(mqtt.resolve("tls/keystore.p12")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String config = Files.readString(mqtt.resolve("conf/config.xml"));
        assertThat(config).contains("<mode>in-memory</mode>", "<name>" + EmbeddedBroker.PLAIN_LISTENER + "</name>",
                "<bind-address>127.0.0.1</bind-address>", "${" + BrokerFiles.PASSWORD_PROPERTY + "}");
        assertThat(System.getProperty(BrokerFiles.PASSWORD_PROPERTY)).isNull();
    }

    @Test
    void a_device_with_its_fleetkey_certificate_reaches_the_server_and_gets_its_answer() throws Exception {
        try (MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, "meter-0001", null,
                meter1Keys, List.of(meter1))) {
            assertThat(device.subscribe(MqttTopics.deviceResponses("meter-0001"))).isEqualTo(1);
            assertThat(device.subscribe("fleetkey/v1/dev/meter-0001/#")).isEqualTo(1);

            String request = MqttTopics.request("meter-0001", EstOperation.CA_CERTIFICATES, "r1");
            assertThat(device.publish(request, new byte[0])).isZero();
            assertThat(serverReceives(request)).isNotNull();

            MqttTestClient.Received answer = device.next(10);
            assertThat(answer).isNotNull();
            assertThat(answer.topic()).isEqualTo(
                    MqttTopics.response("meter-0001", EstOperation.CA_CERTIFICATES, "r1", "2.05"));
            assertThat(Certificates.fromPkcs7CertsOnly(answer.payload())).isEqualTo(server.caChain());
        }
    }

    @Test
    void a_device_may_not_touch_another_devices_topics() throws Exception {
        try (MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, "meter-0001", null,
                meter1Keys, server.withIssuingCa(meter1))) {
            assertThat(device.subscribe(MqttTopics.deviceResponses("meter-0002"))).isEqualTo(NOT_AUTHORIZED);
            assertThat(device.subscribe("#")).isEqualTo(NOT_AUTHORIZED);
            assertThat(device.subscribe(MqttTopics.serverRequests())).isEqualTo(NOT_AUTHORIZED);
            assertThat(device.isConnected()).isTrue();

            String foreign = MqttTopics.request("meter-0002", EstOperation.SIMPLE_ENROLL, "r2");
            try {
                device.publish(foreign, new byte[]{1});
            } catch (MqttException e) {
                // the broker may hang up before Paho sees the PUBACK
            }
            MqttDisconnectResponse hangUp = device.disconnectedBy(10);
            assertThat(hangUp).as("the broker disconnects a device publishing outside its topics").isNotNull();
            assertThat(hangUp.getReturnCode()).isEqualTo(NOT_AUTHORIZED);
            assertThat(serverReceives(foreign, 2)).isNull();
        }
    }

    @Test
    void the_client_id_must_be_the_device_the_certificate_names() {
        assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "meter-0002", null, meter1Keys,
                List.of(meter1)).close())
                .isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(CLIENT_IDENTIFIER_NOT_VALID));
    }

    @Test
    void an_untrusted_client_certificate_is_refused() {
        KeyPair keys = TestPki.p256();
        // Self-signed: the JDK client does not even offer it (its issuer is not among the server's CAs).
        X509Certificate selfSigned = certificate("CN=meter-0001", new X500Name("CN=meter-0001"), keys, keys);
        assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "meter-0001", null, keys,
                List.of(selfSigned)).close()).isInstanceOf(MqttException.class);
        // Forged: names the Fleetkey issuing CA as issuer, signed by another key; offered, and refused in TLS.
        X500Name issuer = X500Name.getInstance(server.caChain().get(0).getSubjectX500Principal().getEncoded());
        X509Certificate forged = certificate("CN=meter-0001", issuer, keys, TestPki.p256());
        assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "meter-0001", null, keys,
                List.of(forged)).close()).isInstanceOf(MqttException.class);
    }

    @Test
    void a_registered_device_without_a_certificate_logs_in_with_its_id_over_tls() throws Exception {
        try (MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, "meter-0002", "meter-0002",
                null, null)) {
            assertThat(device.subscribe(MqttTopics.deviceResponses("meter-0002"))).isEqualTo(1);
            assertThat(device.subscribe(MqttTopics.deviceResponses("meter-0001"))).isEqualTo(NOT_AUTHORIZED);
        }
        assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "ghost-0001", "ghost-0001", null, null)
                .close()).isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(NOT_AUTHORIZED));
        assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "meter-0002", "meter-0001", null, null)
                .close()).isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(BAD_USER_NAME_OR_PASSWORD));
    }

    @Test
    void while_the_server_is_not_listening_for_requests_devices_are_told_to_come_back() throws Exception {
        io.fleetkey.server.health.DoorReadiness readiness = server.context()
                .getBean(io.fleetkey.server.health.DoorReadiness.class);
        readiness.down(MqttDoor.NAME); // as between the broker's start and the door's subscription
        try {
            assertThatThrownBy(() -> MqttTestClient.tls(server.mqttsPort(), root, "meter-0002", "meter-0002", null, null)
                    .close()).isInstanceOfSatisfying(MqttException.class,
                            e -> assertThat(e.getReasonCode()).isEqualTo(SERVER_UNAVAILABLE));
        } finally {
            readiness.ready(MqttDoor.NAME);
        }
        MqttTestClient.tls(server.mqttsPort(), root, "meter-0002", "meter-0002", null, null).close();
    }

    @Test
    void the_plain_listener_refuses_devices_and_wrong_server_credentials() {
        assertThatThrownBy(() -> MqttTestClient.plain(server.mqttPort(), "meter-0002", "meter-0002", null).close())
                .isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(NOT_AUTHORIZED));
        assertThatThrownBy(() -> MqttTestClient.plain(server.mqttPort(), InternalCredentials.CLIENT_ID_PREFIX + "x",
                InternalCredentials.USERNAME, "guess".getBytes(StandardCharsets.UTF_8)).close())
                .isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(BAD_USER_NAME_OR_PASSWORD));
    }

    @Test
    void mosquitto_clients_connect_with_a_device_certificate() throws Exception {
        Mosquitto.requireClients();
        KeyPair keys = TestPki.p256();
        X509Certificate cert = enroll("meter-0003", keys);
        Files.writeString(work.resolve("dev.pem"), Certificates.toPem(List.of(cert)));
        Files.writeString(work.resolve("dev.key"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        String ca = server.caChainPem().toString();
        List<String> tls = List.of("-h", "localhost", "-p", Integer.toString(server.mqttsPort()), "--cafile", ca,
                "--cert", "dev.pem", "--key", "dev.key", "-i", "meter-0003", "-V", "mqttv5", "-q", "1");

        String request = MqttTopics.request("meter-0003", EstOperation.CSR_ATTRIBUTES, "m1");
        Processes.ok(work, Processes.command("mosquitto_pub", tls, "-t", request, "-n"));
        assertThat(serverReceives(request)).isNotNull();

        // Outside its topics: the broker hangs up, and nothing reaches the server.
        String foreign = MqttTopics.request("meter-0001", EstOperation.SIMPLE_ENROLL, "m2");
        Processes.Result refused = Processes.run(work, Processes.command("mosquitto_pub", tls, "-d", "-t", foreign, "-m", "x"));
        assertThat(refused.output()).contains("PUBACK", "RC:135");
        assertThat(serverReceives(foreign, 2)).isNull();

        // Without a certificate the handshake succeeds, but the login is refused: no username.
        Processes.Result anonymous = Processes.run(work, "mosquitto_pub", "-h", "localhost", "-p",
                Integer.toString(server.mqttsPort()), "--cafile", ca, "-i", "meter-0003", "-V", "mqttv5",
                "-t", request, "-m", "x");
        assertThat(anonymous.exitCode()).as(anonymous.output()).isNotZero();
    }

    /** The next request the server's own client receives on {@code topic}, or null within 5 s. */
    private static MqttTestClient.Received serverReceives(String topic) throws InterruptedException {
        return serverReceives(topic, 5);
    }

    private static MqttTestClient.Received serverReceives(String topic, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = serverSide.next(1);
            if (r != null && r.topic().equals(topic)) {
                return r;
            }
        }
        return null;
    }



    private static X509Certificate certificate(String subject, X500Name issuer, KeyPair subjectKeys, KeyPair signer) {
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), new X500Name(subject),
                    subjectKeys.getPublic());
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
