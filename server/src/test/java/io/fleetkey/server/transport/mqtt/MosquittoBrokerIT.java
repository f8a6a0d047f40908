package io.fleetkey.server.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
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
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's listener on an external broker: a real Mosquitto from Debian, configured as
 * docs/mqtt-broker.md recommends (client certificates required, the certificate's CN as
 * username, the per-device ACL on {@code %u}). The server logs in with its own client
 * certificate (CN {@code fleetkey:server}); devices log in with their factory IDevID (CN = device
 * id) or their Fleetkey certificate.
 */
class MosquittoBrokerIT {
    private static final int NOT_AUTHORIZED = 0x87;

    private static Path work;
    private static TestServer server;
    private static Mosquitto mosquitto;
    private static int factoryPort;
    private static TestPki.Ca maker;
    private static X509Certificate brokerCa;

    @BeforeAll
    static void start() throws Exception {
        Mosquitto.require();
        Mosquitto.requireClients();
        work = Files.createTempDirectory("fleetkey-mosquitto-");
        int port = freePort();
        factoryPort = freePort();
        brokerCertificate();
        brokerCa = Certificates.fromPem(Files.readString(work.resolve("broker-ca.pem"))).get(0);

        // The server starts first, while the broker is still down: its listener waits and retries.
        server = TestServer.start(Map.of("fleetkey.mqtt.broker.url", "ssl://localhost:" + port,
                "fleetkey.mqtt.broker.ca-file", work.resolve("broker-ca.pem").toString()));
        assertThat(server.context().getBean(DoorReadiness.class).doors()).containsEntry(MqttDoor.NAME, false);

        maker = TestPki.ca("Acme Sensors Manufacturing CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "acme", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);

        // Two listeners, as docs/mqtt-broker.md recommends: one for Fleetkey certificates (the server's and
        // the devices'), checked against the server's CRL file; one for factory IDevIDs, for first
        // enrollment (OpenSSL's CRL check would want a CRL from every maker too).
        Files.writeString(work.resolve("fleetkey-cas.pem"), Files.readString(server.caChainPem()));
        Files.writeString(work.resolve("maker-cas.pem"), Certificates.toPem(List.of(maker.certificate())));
        Files.writeString(work.resolve("acl"), String.join("\n",
                "user " + io.fleetkey.server.authority.ServerIdentity.MQTT_CLIENT_CN,
                "topic readwrite fleetkey/#",
                "",
                "pattern write fleetkey/v1/est/%u/+/req/+",
                "pattern read fleetkey/v1/est/%u/+/res/#",
                "pattern read fleetkey/v1/dev/%u/#",
                ""));
        Files.writeString(work.resolve("mosquitto.conf"), String.join("\n",
                "user root",
                "persistence false",
                "log_dest file " + work.resolve("mosquitto.log"),
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",
                "connection_messages true",
                "acl_file " + work.resolve("acl"),
                "set_tcp_nodelay true",
                "listener " + port + " 127.0.0.1",
                "cafile " + work.resolve("fleetkey-cas.pem"),
                "crlfile " + server.context().getBean(io.fleetkey.server.authority.CrlPublisher.class).pemFile(),
                "certfile " + work.resolve("broker.pem"),
                "keyfile " + work.resolve("broker.key"),
                "require_certificate true",
                "use_identity_as_username true",
                "listener " + factoryPort + " 127.0.0.1",
                "cafile " + work.resolve("maker-cas.pem"),
                "certfile " + work.resolve("broker.pem"),
                "keyfile " + work.resolve("broker.key"),
                "require_certificate true",
                "use_identity_as_username true",
                ""));
        mosquitto = Mosquitto.start(work.resolve("mosquitto.conf"), port);
        awaitListener();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    private static void awaitListener() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Boolean.TRUE.equals(server.context().getBean(DoorReadiness.class).doors().get(MqttDoor.NAME))) {
                return;
            }
            Thread.sleep(200);
        }
        fail("the server's MQTT listener did not come up on Mosquitto:\n" + mosquitto.log());
    }

    /** A CA of the broker's own and its server certificate for localhost, made with openssl. */
    private static void brokerCertificate() {
        Processes.ok(work, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "broker-ca.key", "-out", "broker-ca.pem", "-subj", "/CN=Test Broker CA", "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
        Processes.ok(work, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost");
        try {
            Files.writeString(work.resolve("broker.ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        Processes.ok(work, "openssl", "x509", "-req", "-in", "broker.csr", "-CA", "broker-ca.pem", "-CAkey",
                "broker-ca.key", "-CAcreateserial", "-out", "broker.pem", "-days", "2", "-extfile", "broker.ext");
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A device with its Fleetkey certificate, on the listener that checks the CRL. */
    private static MqttTestClient device(String id, KeyPair keys, X509Certificate cert) throws Exception {
        return device(mosquitto.port(), id, keys, cert);
    }

    /** A device with its factory IDevID, on the first-enrollment listener. */
    private static MqttTestClient factoryDevice(String id, KeyPair keys, X509Certificate idevid) throws Exception {
        return device(factoryPort, id, keys, idevid);
    }

    private static MqttTestClient device(int port, String id, KeyPair keys, X509Certificate cert) throws Exception {
        MqttTestClient device = MqttTestClient.tls(port, brokerCa, id, null, keys, List.of(cert));
        assertThat(device.subscribe(MqttTopics.deviceResponses(id))).isEqualTo(1);
        return device;
    }

    private static MqttTestClient.Received ask(MqttTestClient device, String id, EstOperation op, byte[] payload)
            throws Exception {
        String requestId = UUID.randomUUID().toString();
        assertThat(device.publish(MqttTopics.request(id, op, requestId), payload, new MqttProperties())).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            MqttTestClient.Received r = device.next(1);
            if (r != null && r.topic().contains("/res/" + requestId + "/")) {
                return r;
            }
        }
        throw new AssertionError("no answer through Mosquitto within 15 s:\n" + mosquitto.log());
    }

    private static String status(MqttTestClient.Received answer) {
        return answer.topic().substring(answer.topic().lastIndexOf('/') + 1);
    }

    @Test
    void the_server_logs_in_with_its_own_client_certificate() {
        assertThat(mosquitto.log()).contains("u'" + io.fleetkey.server.authority.ServerIdentity.MQTT_CLIENT_CN + "'");
    }

    @Test
    void a_device_enrolls_with_its_factory_identity_and_renews_with_signed_statements_through_mosquitto()
            throws Exception {
        String id = "acme-0001";
        server.registerDevice(id, "acme"); // no token used: the IDevID's statement proves the device
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, Duration.ofDays(3650));
        KeyPair keys = TestPki.p256();
        X509Certificate issued;
        try (MqttTestClient device = factoryDevice(id, idevidKeys, idevid)) {
            MqttTestClient.Received crts = ask(device, id, EstOperation.CA_CERTIFICATES, new byte[0]);
            assertThat(status(crts)).isEqualTo("2.05");
            assertThat(Certificates.fromPkcs7CertsOnly(crts.payload())).isEqualTo(server.caChain());

            MqttTestClient.Received sen = ask(device, id, EstOperation.SIMPLE_ENROLL,
                    TestPki.csrWithStatement(id, keys, idevidKeys, List.of(idevid)));
            assertThat(status(sen)).as(sen.text()).isEqualTo("2.04");
            issued = Certificates.fromPkcs7CertsOnly(sen.payload()).get(0);
            assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());

            // Mosquitto keeps it to its own topics (it refuses the publish; reads it filters on delivery).
            assertThat(device.publish(MqttTopics.request("acme-0002", EstOperation.CA_CERTIFICATES, "x"), new byte[0],
                    new MqttProperties())).isEqualTo(NOT_AUTHORIZED);
        }
        // Mosquitto accepts the new Fleetkey certificate. The server cannot see it through the broker:
        // a renewal proves itself with a statement signed by the current key.
        try (MqttTestClient device = device(id, keys, issued)) {
            MqttTestClient.Received bare = ask(device, id, EstOperation.SIMPLE_REENROLL, TestPki.csr(id, TestPki.p256()));
            assertThat(status(bare)).isEqualTo("4.01");
            assertThat(Json.field(bare.text(), "code")).isEqualTo("NOT_AUTHENTICATED");

            KeyPair next = TestPki.p256();
            MqttTestClient.Received sren = ask(device, id, EstOperation.SIMPLE_REENROLL,
                    TestPki.csrWithStatement(id, next, keys, server.withIssuingCa(issued)));
            assertThat(status(sren)).as(sren.text()).isEqualTo("2.04");
            X509Certificate renewed = Certificates.fromPkcs7CertsOnly(sren.payload()).get(0);
            assertThat(renewed.getPublicKey()).isEqualTo(next.getPublic());
            assertThat(renewed.getSerialNumber()).isNotEqualTo(issued.getSerialNumber());
        }
    }

    @Test
    void mosquitto_clients_enroll_by_hand_through_mosquitto() throws Exception {
        String id = "acme-0003";
        String token = server.registerDevice(id, "acme");
        KeyPair idevidKeys = TestPki.p256();
        Files.writeString(work.resolve(id + ".idevid.pem"),
                Certificates.toPem(List.of(maker.issue("CN=" + id, idevidKeys, Duration.ofDays(3650)))));
        Files.writeString(work.resolve(id + ".idevid.key"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(idevidKeys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        List<String> connection = List.of("-h", "localhost", "-p", Integer.toString(factoryPort),
                "--cafile", "broker-ca.pem", "--cert", id + ".idevid.pem", "--key", id + ".idevid.key", "-q", "1");

        Path crts = work.resolve(id + ".crts.p7");
        Process rr = new ProcessBuilder(Processes.command("mosquitto_rr", connection, "-i", id, "-W", "20", "-N",
                "-t", MqttTopics.request(id, EstOperation.CA_CERTIFICATES, "c1"),
                "-e", "fleetkey/v1/est/" + id + "/crts/res/c1", "-n"))
                .directory(work.toFile()).redirectOutput(crts.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        assertThat(rr.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Processes.ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", crts.getFileName().toString(),
                "-print_certs")).contains("Fleetkey Issuing CA");

        Files.writeString(work.resolve(id + ".cnf"), String.join("\n", "[req]", "prompt = no",
                "distinguished_name = dn", "attributes = attrs", "[dn]", "CN = " + id, "[attrs]",
                "challengePassword = " + token, ""));
        Processes.ok(work, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", id + ".key");
        Processes.ok(work, "openssl", "req", "-new", "-key", id + ".key", "-config", id + ".cnf", "-outform", "DER",
                "-out", id + ".csr");
        Mosquitto.Answer answer = Mosquitto.requestByHand(work, connection, id, "sen", id + ".csr");
        assertThat(answer.status()).as(new String(answer.payload(), StandardCharsets.UTF_8) + mosquitto.log())
                .isEqualTo("2.04");
        Files.write(work.resolve(id + ".p7"), answer.payload());
        Processes.ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", id + ".p7", "-print_certs", "-out", id + ".pem");
        assertThat(Processes.ok(work, "openssl", "verify", "-CAfile", server.caChainPem().toString(), "-purpose",
                "sslclient", id + ".pem")).contains(id + ".pem: OK");
    }

    @Test
    void a_revoked_device_is_refused_by_mosquitto_after_the_crl_and_still_learns_why() throws Exception {
        String id = "acme-0004";
        String token = server.registerDevice(id, "acme");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, Duration.ofDays(3650));
        KeyPair keys = TestPki.p256();
        X509Certificate issued;
        try (MqttTestClient device = factoryDevice(id, idevidKeys, idevid)) {
            MqttTestClient.Received sen = ask(device, id, EstOperation.SIMPLE_ENROLL, TestPki.csrWithToken(id, keys, token));
            assertThat(status(sen)).as(sen.text()).isEqualTo("2.04");
            issued = Certificates.fromPkcs7CertsOnly(sen.payload()).get(0);
        }
        device(id, keys, issued).close(); // accepted before the revocation

        var revoke = server.api("POST", "/api/v1/devices/" + id + "/revoke",
                Json.write(Map.of("reason", "keyCompromise")));
        assertThat(revoke.statusCode()).as(revoke.body()).isEqualTo(200);
        // The server has written the new CRL file; Mosquitto 2.0 reads it only when it starts.
        mosquitto.restart();
        awaitListener();
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> device(id, keys, issued).close()))
                .as("Mosquitto refuses the revoked certificate").isNotNull();
        assertThat(mosquitto.log()).contains("certificate verify failed");
        // The same certificate passed before; what changed is the CRL file, which lists it now.
        Files.writeString(work.resolve(id + ".pem"), Certificates.toPem(List.of(issued)));
        assertThat(Processes.run(work, "openssl", "verify", "-crl_check", "-CAfile", "fleetkey-cas.pem", "-CRLfile",
                server.context().getBean(io.fleetkey.server.authority.CrlPublisher.class).pemFile().toString(),
                id + ".pem").output()).contains("certificate revoked");

        // The restarted broker lost its retained messages; the server published the notice again on
        // reconnecting, so the device, back with its factory identity, learns why.
        try (MqttTestClient device = factoryDevice(id, idevidKeys, idevid)) {
            assertThat(device.subscribe(MqttTopics.deviceEvents(id))).isEqualTo(1);
            MqttTestClient.Received notice = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (notice == null && System.nanoTime() < deadline) {
                MqttTestClient.Received r = device.next(1);
                if (r != null && r.topic().equals(MqttTopics.events(id))) {
                    notice = r;
                }
            }
            assertThat(notice).as("revocation notice").isNotNull();
            assertThat(Json.field(notice.text(), "event")).isEqualTo("revoked");
            // And it cannot enroll again.
            MqttTestClient.Received again = ask(device, id, EstOperation.SIMPLE_ENROLL,
                    TestPki.csrWithToken(id, TestPki.p256(), token));
            assertThat(Json.field(again.text(), "code")).isEqualTo("DEVICE_REVOKED");
        }
    }

}
