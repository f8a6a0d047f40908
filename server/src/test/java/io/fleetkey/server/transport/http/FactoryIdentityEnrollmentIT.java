package io.fleetkey.server.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * First enrollment authenticated by the device's factory identity (IDevID, IEEE 802.1AR) as
 * TLS client certificate, checked against the maker CAs of the device's group; and the
 * gateway profile's DNS names under group policy.
 */
class FactoryIdentityEnrollmentIT {
    private static TestServer server;
    private static TestPki.Ca maker;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        maker = TestPki.ca("Acme Devices Manufacturing CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(java.util.Map.of("name", "gateways",
                "profile", "gateway", "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))),
                "allowedDnsNames", List.of("*.gw.example.com"))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        server.createGroup("no-maker", "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static X509Certificate enrollWithIdevid(String deviceId, String idevidSubject, byte[] csr) {
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue(idevidSubject, idevidKeys, Duration.ofDays(3650));
        var r = server.est(server.client(idevidKeys, List.of(idevid, maker.certificate())), "simpleenroll", csr, null, null);
        return TestServer.issuedCertificate(r);
    }

    @Test
    void device_with_a_factory_certificate_enrolls_without_a_token() {
        server.registerDevice("gw-0001", "gateways");
        KeyPair keys = TestPki.p256();
        X509Certificate cert = enrollWithIdevid("gw-0001", "CN=gw-0001,O=Acme", TestPki.csr("gw-0001", keys));
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=gw-0001");
        assertThat(Json.field(server.api("GET", "/api/v1/devices/gw-0001", null).body(), "status")).isEqualTo("ENROLLED");
    }

    @Test
    void factory_certificate_may_name_the_device_in_its_serial_number() {
        server.registerDevice("gw-0002", "gateways");
        X509Certificate cert = enrollWithIdevid("gw-0002", "CN=Acme Gateway 3000,SERIALNUMBER=gw-0002",
                TestPki.csr("gw-0002", TestPki.p256()));
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=gw-0002");
    }

    @Test
    void factory_certificate_of_another_device_is_refused() {
        server.registerDevice("gw-0003", "gateways");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=gw-9999", idevidKeys, Duration.ofDays(30));
        var r = server.est(server.client(idevidKeys, List.of(idevid)), "simpleenroll",
                TestPki.csr("gw-0003", TestPki.p256()), null, null);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("names neither in its CN nor in its serialNumber");
    }

    @Test
    void expired_factory_certificate_is_refused() {
        server.registerDevice("gw-0004", "gateways");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=gw-0004", idevidKeys, Duration.ofSeconds(-1));
        var r = server.est(server.client(idevidKeys, List.of(idevid)), "simpleenroll",
                TestPki.csr("gw-0004", TestPki.p256()), null, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).contains("expired");
    }

    @Test
    void group_without_maker_ca_tells_how_to_add_one() {
        server.registerDevice("plain-0001", "no-maker");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=plain-0001", idevidKeys, Duration.ofDays(30));
        var r = server.est(server.client(idevidKeys, List.of(idevid)), "simpleenroll",
                TestPki.csr("plain-0001", TestPki.p256()), null, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).contains("PATCH /api/v1/groups/no-maker");
    }

    @Test
    void gateway_gets_allowed_dns_names_and_server_auth() throws Exception {
        server.registerDevice("gw-0005", "gateways");
        X509Certificate cert = enrollWithIdevid("gw-0005", "CN=gw-0005",
                TestPki.csr("CN=gw-0005", TestPki.p256(), List.of("gw-0005.gw.example.com")));
        assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(cert.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList())
                .containsExactly("gw-0005.gw.example.com");
    }

    @Test
    void dns_name_outside_group_policy_is_refused() {
        server.registerDevice("gw-0006", "gateways");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=gw-0006", idevidKeys, Duration.ofDays(30));
        var r = server.est(server.client(idevidKeys, List.of(idevid)), "simpleenroll",
                TestPki.csr("CN=gw-0006", TestPki.p256(), List.of("payments.bank.example")), null, null);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Fleetkey-Error")).hasValue("POLICY_VIOLATION");
        assertThat(r.body()).contains("payments.bank.example").contains("not allowed");
    }

    @Test
    void device_profile_refuses_dns_names() {
        String token = server.registerDevice("plain-0002", "no-maker");
        var r = server.est(server.client(), "simpleenroll",
                TestPki.csr("CN=plain-0002", TestPki.p256(), List.of("plain.example.com")), "plain-0002", token);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("does not allow DNS names");
    }
}
