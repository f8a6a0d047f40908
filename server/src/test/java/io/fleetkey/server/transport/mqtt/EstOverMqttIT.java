package io.fleetkey.server.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.health.DoorReadiness;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.Mosquitto;
import io.fleetkey.server.testing.MqttTestClient;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EST over MQTT end to end through the embedded broker: the server's real listener answers
 * Paho MQTT 5 and MQTT 3.1.1 devices and Debian's {@code mosquitto_rr}, with CSRs from Bouncy
 * Castle and from {@code openssl req}; every bad request gets its error reply.
 */
class EstOverMqttIT {
    private static TestServer server;
    private static X509Certificate root;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.withMqtt());
        root = server.caChain().get(server.caChain().size() - 1);
        server.createGroup("meters", "device");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A registered token device on the TLS listener without a certificate (username = client id = device id). */
    private static MqttTestClient tokenDevice(String id) throws Exception {
        MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, id, id, null, null);
        assertThat(device.subscribe(MqttTopics.deviceResponses(id))).isEqualTo(1);
        return device;
    }

    private static MqttTestClient certificateDevice(String id, KeyPair keys, X509Certificate cert) throws Exception {
        MqttTestClient device = MqttTestClient.tls(server.mqttsPort(), root, id, null, keys, server.withIssuingCa(cert));
        assertThat(device.subscribe(MqttTopics.deviceResponses(id))).isEqualTo(1);
        return device;
    }

    /** Publishes one request and returns the answer to it (by request id), failing after 15 s. */
    private static MqttTestClient.Received ask(MqttTestClient device, String id, String operation, byte[] payload,
                                               MqttProperties properties) throws Exception {
        String requestId = UUID.randomUUID().toString();
        String topic = "fleetkey/v1/est/" + id + "/" + operation + "/req/" + requestId;
        assertThat(device.publish(topic, payload, properties)).isZero();
        return answerTo(device, requestId);
    }

    private static MqttTestClient.Received ask(MqttTestClient device, String id, EstOperation op, byte[] payload)
            throws Exception {
        return ask(device, id, op.shortName(), payload, new MqttProperties());
    }

    private static MqttTestClient.Received answerTo(MqttTestClient device, String requestId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().contains("/res/" + requestId)) {
                return r;
            }
        }
        throw new AssertionError("no answer to request " + requestId + " within 15 s");
    }

    private static String status(MqttTestClient.Received answer) {
        return answer.topic().substring(answer.topic().lastIndexOf('/') + 1);
    }

    private static X509Certificate certificateIn(MqttTestClient.Received answer) {
        assertThat(status(answer)).as(answer.text()).isEqualTo("2.04");
        List<X509Certificate> certs = Certificates.fromPkcs7CertsOnly(answer.payload());
        assertThat(certs).hasSize(1);
        return certs.get(0);
    }

    @Test
    void the_listener_is_a_door_of_the_health_check() {
        assertThat(server.context().getBean(DoorReadiness.class).doors()).containsEntry(MqttDoor.NAME, true);
    }

    @Test
    void an_mqtt5_device_fetches_the_ca_enrolls_with_the_token_in_its_csr_and_renews_with_its_certificate()
            throws Exception {
        String id = "mq5-0001";
        String token = server.registerDevice(id, "meters");
        KeyPair keys = TestPki.p256();
        X509Certificate first;
        try (MqttTestClient device = tokenDevice(id)) {
            MqttTestClient.Received crts = ask(device, id, EstOperation.CA_CERTIFICATES, new byte[0]);
            assertThat(status(crts)).isEqualTo("2.05");
            assertThat(Certificates.fromPkcs7CertsOnly(crts.payload())).isEqualTo(server.caChain());
            assertThat(crts.properties().getContentType()).isEqualTo("application/pkcs7-mime; smime-type=certs-only");
            assertThat(crts.userProperty("status")).isEqualTo("2.05");

            MqttTestClient.Received att = ask(device, id, EstOperation.CSR_ATTRIBUTES, new byte[0]);
            assertThat(status(att)).isEqualTo("2.05");
            assertThat(att.payload()).isNotEmpty();

            first = certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, keys, token)));
            assertThat(first.getSubjectX500Principal().getName()).contains("CN=" + id);
            assertThat(first.getPublicKey()).isEqualTo(keys.getPublic());
            first.verify(server.caChain().get(0).getPublicKey());
        }
        // Renewal: the device now logs in with its Fleetkey certificate, which the broker vouches for.
        KeyPair next = TestPki.p256();
        try (MqttTestClient device = certificateDevice(id, keys, first)) {
            X509Certificate renewed = certificateIn(ask(device, id, EstOperation.SIMPLE_REENROLL, TestPki.csr(id, next)));
            assertThat(renewed.getPublicKey()).isEqualTo(next.getPublic());
            assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        }
    }

    @Test
    void an_mqtt_3_1_1_device_enrolls_and_reads_the_status_from_the_topic() throws Exception {
        String id = "mq3-0001";
        String token = server.registerDevice(id, "meters");
        KeyPair keys = TestPki.p256();
        MqttClient device = new MqttClient("ssl://localhost:" + server.mqttsPort(), id, new MemoryPersistence());
        java.util.concurrent.BlockingQueue<String[]> received = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.Map<String, byte[]> payloads = new java.util.concurrent.ConcurrentHashMap<>();
        device.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                payloads.put(topic, message.getPayload());
                received.add(new String[]{topic});
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setUserName(id);
        options.setSocketFactory(MqttTestClient.sslFactory(root, null, null));
        options.setCleanSession(true);
        device.connect(options);
        try {
            device.subscribe(MqttTopics.deviceResponses(id), 1);
            String request = MqttTopics.request(id, EstOperation.SIMPLE_ENROLL, "v3-1");
            device.publish(request, TestPki.csrWithToken(id, keys, token), 1, false);
            String[] answer = received.poll(15, TimeUnit.SECONDS);
            assertThat(answer).as("answer within 15 s").isNotNull();
            assertThat(answer[0]).isEqualTo(MqttTopics.response(id, EstOperation.SIMPLE_ENROLL, "v3-1", "2.04"));
            X509Certificate cert = Certificates.fromPkcs7CertsOnly(payloads.get(answer[0])).get(0);
            assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());

            // A refusal is as easy to tell: the status is the last topic level, the reason JSON.
            device.publish(MqttTopics.request(id, EstOperation.SIMPLE_ENROLL, "v3-2"), "junk".getBytes(), 1, false);
            String[] refused = received.poll(15, TimeUnit.SECONDS);
            assertThat(refused).isNotNull();
            assertThat(refused[0]).endsWith("/v3-2/4.00");
            assertThat(Json.field(new String(payloads.get(refused[0]), StandardCharsets.UTF_8), "code"))
                    .isEqualTo("MALFORMED_REQUEST");
        } finally {
            device.disconnect();
            device.close();
        }
    }

    @Test
    void mqtt5_response_topic_correlation_data_and_accept_are_honoured_within_the_devices_own_topics()
            throws Exception {
        String id = "mq5-0002";
        String token = server.registerDevice(id, "meters");
        try (MqttTestClient device = tokenDevice(id)) {
            MqttProperties asked = new MqttProperties();
            String mine = "fleetkey/v1/est/" + id + "/crts/res/mine";
            asked.setResponseTopic(mine);
            asked.setCorrelationData(new byte[]{1, 2, 3});
            asked.setUserProperties(List.of(new UserProperty("accept", "287")));
            MqttTestClient.Received crts = askOn(device, id, "crts", new byte[0], asked, mine);
            assertThat(Certificates.fromDer(crts.payload())).isEqualTo(server.caChain().get(0));
            assertThat(crts.properties().getCorrelationData()).containsExactly(1, 2, 3);
            assertThat(crts.properties().getContentType()).isEqualTo("application/pkix-cert");

            // Another device's topic as Response Topic: ignored, the answer goes to the standard topic.
            MqttProperties foreign = new MqttProperties();
            foreign.setResponseTopic("fleetkey/v1/est/mq5-0001/crts/res/steal");
            MqttTestClient.Received standard = ask(device, id, "crts", new byte[0], foreign);
            assertThat(standard.topic()).startsWith("fleetkey/v1/est/" + id + "/crts/res/").endsWith("/2.05");

            MqttProperties bare = new MqttProperties();
            bare.setUserProperties(List.of(new UserProperty("accept", "287")));
            bare.setContentType("application/pkcs10");
            KeyPair keys = TestPki.p256();
            MqttTestClient.Received sen = ask(device, id, "sen", TestPki.csrWithToken(id, keys, token), bare);
            assertThat(status(sen)).isEqualTo("2.04");
            assertThat(Certificates.fromDer(sen.payload()).getPublicKey()).isEqualTo(keys.getPublic());
        }
    }

    private static MqttTestClient.Received askOn(MqttTestClient device, String id, String operation, byte[] payload,
                                                 MqttProperties properties, String responseTopic) throws Exception {
        String topic = "fleetkey/v1/est/" + id + "/" + operation + "/req/" + UUID.randomUUID();
        assertThat(device.publish(topic, payload, properties)).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().equals(responseTopic)) {
                return r;
            }
        }
        throw new AssertionError("no answer on " + responseTopic);
    }

    @Test
    void a_duplicate_delivery_gets_the_same_answer_and_never_a_second_certificate() throws Exception {
        String id = "mq5-0003";
        String token = server.registerDevice(id, "meters");
        byte[] csr = TestPki.csrWithToken(id, TestPki.p256(), token);
        try (MqttTestClient device = tokenDevice(id)) {
            String request = MqttTopics.request(id, EstOperation.SIMPLE_ENROLL, "dup-1");
            // As a QoS 1 redelivery would: the same request twice, the second while the first may still run.
            assertThat(device.publish(request, csr)).isZero();
            assertThat(device.publish(request, csr)).isZero();
            X509Certificate one = certificateIn(answerTo(device, "dup-1"));
            X509Certificate two = certificateIn(answerTo(device, "dup-1"));
            assertThat(two).isEqualTo(one);

            // A retry with a new request id after a lost answer: the same certificate, not "token used".
            X509Certificate three = certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL, csr));
            assertThat(three).isEqualTo(one);
        }
        assertThat(server.context().getBean(io.fleetkey.server.registry.CertificateRepository.class).forDevice(id))
                .hasSize(1);
    }

    @Test
    void bad_requests_get_a_readable_error_reply_and_the_listener_keeps_serving() throws Exception {
        String id = "mq5-0004";
        String token = server.registerDevice(id, "meters");
        try (MqttTestClient device = tokenDevice(id)) {
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, "not DER".getBytes()), "4.00", "MALFORMED_REQUEST");
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, new byte[0]), "4.00", "MALFORMED_REQUEST");
            assertRefused(ask(device, id, "nope", new byte[0], new MqttProperties()), "4.04", "UNKNOWN_OPERATION");
            assertRefused(ask(device, id, EstOperation.CA_CERTIFICATES, "x".getBytes()), "4.00", "MALFORMED_REQUEST");
            MqttProperties text = new MqttProperties();
            text.setContentType("text/plain");
            assertRefused(ask(device, id, "sen", TestPki.csr(id, TestPki.p256()), text), "4.15", "UNSUPPORTED_MEDIA_TYPE");
            MqttProperties odd = new MqttProperties();
            odd.setUserProperties(List.of(new UserProperty("accept", "999")));
            assertRefused(ask(device, id, "crts", new byte[0], odd), "4.06", "NOT_ACCEPTABLE");
            int max = server.context().getBean(io.fleetkey.server.config.FleetkeyConfiguration.class)
                    .getEnrollment().getMaxRequestBytes();
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, new byte[max + 1]), "4.13", "PAYLOAD_TOO_LARGE");
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithForeignSignature(id)), "4.00",
                    "BAD_CSR_SIGNATURE");
            // No proof at all: no token in the CSR and no certificate on the connection.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csr(id, TestPki.p256())), "4.01",
                    "NOT_AUTHENTICATED");
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, TestPki.p256(), "wrong")),
                    "4.01", "NOT_AUTHENTICATED");
            // Another device's name in the CSR.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL,
                    TestPki.csrWithToken("mq5-0001", TestPki.p256(), token)), "4.03", "SUBJECT_MISMATCH");
            certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, TestPki.p256(), token)));
            // The token is spent: a replay with another key is refused.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, TestPki.p256(), token)),
                    "4.03", "TOKEN_USED");
            // Still serving.
            assertThat(status(ask(device, id, EstOperation.CA_CERTIFICATES, new byte[0]))).isEqualTo("2.05");
        }
        // Beyond the broker's packet limit a message never reaches the server: refused at the client
        // (Paho honours the limit the broker announced) or by the broker, which hangs up.
        try (MqttTestClient device = tokenDevice(id)) {
            Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> device.publish(
                    MqttTopics.request(id, EstOperation.SIMPLE_ENROLL, "huge"), new byte[256 * 1024]));
            assertThat(refused != null || device.disconnectedBy(5) != null).as("oversized message refused").isTrue();
        }
        try (MqttTestClient device = tokenDevice(id)) {
            assertThat(status(ask(device, id, EstOperation.CA_CERTIFICATES, new byte[0]))).isEqualTo("2.05");
        }
    }

    private static void assertRefused(MqttTestClient.Received answer, String status, String code) {
        assertThat(status(answer)).as(answer.text()).isEqualTo(status);
        assertThat(answer.properties().getContentType()).isEqualTo("application/json");
        assertThat(Json.field(answer.text(), "code")).isEqualTo(code);
        assertThat(Json.field(answer.text(), "status")).isEqualTo(status);
        assertThat(Json.field(answer.text(), "reason")).isNotBlank().doesNotContain("Exception");
    }

    @Test
    void device_statements_in_the_csr_prove_the_factory_identity_and_every_bad_one_is_refused() throws Exception {
        TestPki.Ca maker = TestPki.ca("Statement Maker CA");
        var group = server.api("POST", "/api/v1/groups", Json.write(java.util.Map.of("name", "stmt", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(group.statusCode()).as(group.body()).isEqualTo(201);
        String id = "stmt-0001";
        server.registerDevice(id, "stmt");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, java.time.Duration.ofDays(365));
        KeyPair keys = TestPki.p256();
        java.time.Instant now = java.time.Instant.now();
        try (MqttTestClient device = tokenDevice(id)) {
            // Bound to another key than the CSR's: worthless to whoever copies it.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of(idevid), id, TestPki.p256().getPublic(), now)), "4.01", "NOT_AUTHENTICATED");
            // Too old (a replay), or from a clock far ahead.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of(idevid), id, keys.getPublic(), now.minusSeconds(3600))), "4.01", "STALE_EVIDENCE");
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of(idevid), id, keys.getPublic(), now.plusSeconds(3600))), "4.01", "STALE_EVIDENCE");
            // Naming another device.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of(idevid), "stmt-0002", keys.getPublic(), now)), "4.03", "SUBJECT_MISMATCH");
            // Signed by another key than the certificate's.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, TestPki.p256(),
                    List.of(idevid))), "4.01", "NOT_AUTHENTICATED");
            // A statement but no certificate to check it with.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of())), "4.01", "NOT_AUTHENTICATED");
            // An IDevID of a maker the group does not trust.
            TestPki.Ca stranger = TestPki.ca("Stranger CA");
            KeyPair strangerKeys = TestPki.p256();
            assertThat(status(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys,
                    strangerKeys, List.of(stranger.issue("CN=" + id, strangerKeys, java.time.Duration.ofDays(1)))))))
                    .isIn("4.01", "4.03");
            // A bundle that is not DER.
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithBundle(id, keys,
                    new io.fleetkey.protocol.AttestationBundle(List.of(new io.fleetkey.protocol.AttestationBundle
                            .Statement(io.fleetkey.protocol.CsrAttestation.FLEETKEY_EAT_JWT,
                            new byte[]{0x04, 0x01, 0x00})), List.of()))), "4.00", "MALFORMED_REQUEST");
            // The good one.
            X509Certificate cert = certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL,
                    TestPki.csrWithStatement(id, keys, idevidKeys, List.of(idevid))));
            assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        }
    }

    @Test
    void the_nonce_operation_gives_a_nonce_that_a_statement_can_spend_once() throws Exception {
        TestPki.Ca maker = TestPki.ca("Nonce Statement Maker CA");
        var group = server.api("POST", "/api/v1/groups", Json.write(java.util.Map.of("name", "nonced",
                "profile", "device", "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(group.statusCode()).as(group.body()).isEqualTo(201);
        String id = "nonced-0001";
        server.registerDevice(id, "nonced");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, java.time.Duration.ofDays(30));
        try (MqttTestClient device = tokenDevice(id)) {
            MqttTestClient.Received answer = ask(device, id, "nonce", new byte[0], new MqttProperties());
            assertThat(status(answer)).isEqualTo("2.05");
            assertThat(answer.properties().getContentType()).isEqualTo("application/est-attestation-freshness+json");
            String nonce = Json.field(answer.text(), "nonce");
            assertThat(nonce).matches("[A-Za-z0-9_-]{43}");

            KeyPair keys = TestPki.p256();
            certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, keys, idevidKeys,
                    List.of(idevid), id, keys.getPublic(), java.time.Instant.now(), nonce)));
            KeyPair other = TestPki.p256();
            assertRefused(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithStatement(id, other, idevidKeys,
                    List.of(idevid), id, other.getPublic(), java.time.Instant.now(), nonce)), "4.01", "STALE_EVIDENCE");
        }
    }

    @Test
    void a_device_cannot_forge_the_brokers_word_about_its_connection() throws Exception {
        KeyPair victimKeys = TestPki.p256();
        String victim = "mq5-0005";
        String victimToken = server.registerDevice(victim, "meters");
        X509Certificate victimCert;
        try (MqttTestClient device = tokenDevice(victim)) {
            victimCert = certificateIn(ask(device, victim, EstOperation.SIMPLE_ENROLL,
                    TestPki.csrWithToken(victim, victimKeys, victimToken)));
        }
        // Without a certificate, claiming the victim's in the property the embedded broker sets.
        try (MqttTestClient device = tokenDevice(victim)) {
            MqttProperties forged = new MqttProperties();
            forged.setUserProperties(List.of(
                    new UserProperty(ChannelStamp.CHANNEL, ChannelStamp.TLS),
                    new UserProperty(ChannelStamp.CLIENT_CERTIFICATE,
                            Base64.getEncoder().encodeToString(victimCert.getEncoded()))));
            assertRefused(ask(device, victim, "sren", TestPki.csr(victim, TestPki.p256()), forged), "4.01",
                    "NOT_AUTHENTICATED");
        }
    }

    @Test
    void renew_now_and_revoked_notices_reach_the_device_on_its_events_topic() throws Exception {
        String id = "mq5-0006";
        String token = server.registerDevice(id, "meters");
        KeyPair keys = TestPki.p256();
        X509Certificate cert;
        try (MqttTestClient device = tokenDevice(id)) {
            cert = certificateIn(ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, keys, token)));
        }
        try (MqttTestClient device = certificateDevice(id, keys, cert)) {
            assertThat(device.subscribe(MqttTopics.deviceEvents(id))).isEqualTo(1);

            assertThat(server.api("POST", "/api/v1/devices/" + id + "/renew-now", null).statusCode()).isEqualTo(202);
            MqttTestClient.Received renew = nextEvent(device, id);
            assertThat(Json.field(renew.text(), "event")).isEqualTo("renew-now");
            assertThat(Json.field(renew.text(), "deviceId")).isEqualTo(id);
            assertThat(renew.retained()).isFalse();

            var revoke = server.api("POST", "/api/v1/devices/" + id + "/revoke", Json.write(
                    java.util.Map.of("reason", "keyCompromise", "note", "stolen")));
            assertThat(revoke.statusCode()).as(revoke.body()).isEqualTo(200);
            MqttTestClient.Received revoked = nextEvent(device, id);
            assertThat(Json.field(revoked.text(), "event")).isEqualTo("revoked");
            assertThat(Json.field(revoked.text(), "reason")).isEqualTo("keyCompromise");
            assertThat(revoked.properties().getContentType()).isEqualTo("application/json");
        }
        // Retained: whoever subscribes later gets it at once (here the server's own login, since the
        // broker no longer lets the revoked device in).
        EmbeddedBroker broker = server.context().getBean(EmbeddedBroker.class);
        try (MqttTestClient observer = MqttTestClient.plain(server.mqttPort(),
                InternalCredentials.CLIENT_ID_PREFIX + "observer", InternalCredentials.USERNAME,
                broker.internalCredentials().password())) {
            assertThat(observer.subscribe(MqttTopics.events(id))).isEqualTo(1);
            MqttTestClient.Received later = observer.next(10);
            assertThat(later).isNotNull();
            assertThat(later.retained()).isTrue();
            assertThat(Json.field(later.text(), "event")).isEqualTo("revoked");
        }
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> certificateDevice(id, keys, cert).close()))
                .as("a revoked certificate cannot log in").isInstanceOf(org.eclipse.paho.mqttv5.common.MqttException.class);

        // Only enrolled devices can be asked to renew.
        server.registerDevice("mq5-0007", "meters");
        assertThat(server.api("POST", "/api/v1/devices/mq5-0007/renew-now", null).statusCode()).isEqualTo(409);
        assertThat(server.api("POST", "/api/v1/devices/" + id + "/renew-now", null).statusCode()).isEqualTo(409);
        assertThat(server.api("POST", "/api/v1/devices/nobody/renew-now", null).statusCode()).isEqualTo(404);
    }

    private static MqttTestClient.Received nextEvent(MqttTestClient device, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().equals(MqttTopics.events(id))) {
                return r;
            }
        }
        throw new AssertionError("no event for " + id + " within 10 s");
    }

    @Test
    void mosquitto_rr_fetches_the_ca_and_enrolls_by_hand_with_an_openssl_csr() throws Exception {
        Mosquitto.requireClients();
        String id = "meter-rr-01";
        String token = server.registerDevice(id, "meters");
        String ca = server.caChainPem().toString();
        List<String> tls = List.of("-h", "localhost", "-p", Integer.toString(server.mqttsPort()), "--cafile", ca,
                "-i", id, "-u", id, "-q", "1", "-W", "20", "-N");

        byte[] crts = rr(Processes.command("mosquitto_rr", tls, "-t", MqttTopics.request(id, EstOperation.CA_CERTIFICATES, "c1"),
                "-e", "fleetkey/v1/est/" + id + "/crts/res/c1", "-n"));
        Files.write(work.resolve("crts.p7"), crts);
        String chain = Processes.ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "crts.p7", "-print_certs");
        assertThat(chain).contains("Fleetkey Issuing CA", "Fleetkey Root CA");

        Files.writeString(work.resolve("req.cnf"), String.join("\n", "[req]", "prompt = no",
                "distinguished_name = dn", "attributes = attrs", "[dn]", "CN = " + id, "[attrs]",
                "challengePassword = " + token, ""));
        Processes.ok(work, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "device.key");
        Processes.ok(work, "openssl", "req", "-new", "-key", "device.key", "-config", "req.cnf", "-outform", "DER",
                "-out", "device.csr");
        List<String> connection = List.of("-h", "localhost", "-p", Integer.toString(server.mqttsPort()),
                "--cafile", ca, "-u", id, "-q", "1");
        Mosquitto.Answer answer = Mosquitto.requestByHand(work, connection, id, "sen", "device.csr");
        assertThat(answer.status()).as(new String(answer.payload(), StandardCharsets.UTF_8)).isEqualTo("2.04");
        byte[] issued = answer.payload();
        Files.write(work.resolve("device.p7"), issued);
        Processes.ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "device.p7", "-print_certs", "-out", "device.pem");
        assertThat(Processes.ok(work, "openssl", "verify", "-CAfile", ca, "-purpose", "sslclient", "device.pem"))
                .contains("device.pem: OK");
        assertThat(Processes.ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-subject")).contains("CN = " + id);
        // The certificate belongs to the key openssl made.
        assertThat(Processes.ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-pubkey"))
                .isEqualTo(Processes.ok(work, "openssl", "pkey", "-in", "device.key", "-pubout"));
    }

    /** Runs mosquitto_rr and returns the raw payload it printed (-N: no newline added). */
    private byte[] rr(String... command) throws Exception {
        Path out = work.resolve("rr.out");
        ProcessBuilder builder = new ProcessBuilder(command);
        Process p = builder.directory(work.toFile()).redirectOutput(out.toFile())
                .redirectError(work.resolve("rr.err").toFile()).start();
        if (!p.waitFor(40, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("mosquitto_rr did not finish: " + Files.readString(work.resolve("rr.err")));
        }
        assertThat(p.exitValue()).as(Files.readString(work.resolve("rr.err"))).isZero();
        return Files.readAllBytes(out);
    }


}
