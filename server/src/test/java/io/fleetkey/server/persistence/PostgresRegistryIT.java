package io.fleetkey.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CRLReason;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import io.fleetkey.server.authority.CrlPublisher;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The same migrations and repositories on a real PostgreSQL, the multi-node registry: a fresh
 * database per run, the whole server on top, one enrollment end to end, and a revocation seen
 * by the CRL of a second node sharing the registry and the CA. Runs when
 * FLEETKEY_TEST_POSTGRES_URL (a server URL such as jdbc:postgresql://localhost:5432/),
 * _USER and _PASSWORD name a role that may create databases; .ci/run sets them.
 */
class PostgresRegistryIT {
    private static final String URL = System.getenv("FLEETKEY_TEST_POSTGRES_URL");
    private static final String USER = System.getenv("FLEETKEY_TEST_POSTGRES_USER");
    private static final String PASSWORD = System.getenv("FLEETKEY_TEST_POSTGRES_PASSWORD");
    private static String database;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(URL != null && !URL.isBlank(), "FLEETKEY_TEST_POSTGRES_URL is not set: PostgreSQL test skipped");
        database = "fleetkey_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(URL + "postgres", USER, PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        server = TestServer.start(registry());
        server.createGroup("pg-meters", "device");
    }

    private static Map<String, Object> registry() {
        return Map.of("datasources.default.url", URL + database, "datasources.default.username", USER,
                "datasources.default.password", PASSWORD);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (database != null) {
            try (Connection c = DriverManager.getConnection(URL + "postgres", USER, PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database);
            }
        }
    }

    @Test
    void enrollment_is_recorded_in_postgresql() {
        String token = server.registerDevice("pg-0001", "pg-meters");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csr("pg-0001", keys);
        X509Certificate cert = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", csr, "pg-0001", token));
        assertThat(server.context().getBean(CertificateRepository.class).find(cert.getSerialNumber().toString(16)))
                .hasValueSatisfying(c -> assertThat(c.deviceId()).isEqualTo("pg-0001"));
        // A retry of the same CSR is answered from the registry, and the spent token stays spent.
        assertThat(TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", csr, "pg-0001", token)))
                .isEqualTo(cert);
        assertThat(server.est(server.client(), "simpleenroll", TestPki.csr("pg-0001", TestPki.p256()), "pg-0001", token)
                .statusCode()).isEqualTo(403);
        var page = Json.parse(server.api("GET", "/api/v1/devices?group=pg-meters&status=ENROLLED", null).body());
        assertThat(page.get("total").asLong()).isEqualTo(1);
    }

    @Test
    void a_revocation_reaches_the_crl_of_another_node_with_a_higher_crl_number() throws Exception {
        String token = server.registerDevice("pg-0002", "pg-meters");
        X509Certificate cert = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                TestPki.csr("pg-0002", TestPki.p256()), "pg-0002", token));

        var revoked = server.api("POST", "/api/v1/devices/pg-0002/revoke", "{\"reason\":\"keyCompromise\"}");

        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
        var detail = Json.parse(server.api("GET", "/api/v1/devices/pg-0002", null).body());
        assertThat(detail.get("status").asText()).isEqualTo("REVOKED");
        assertThat(detail.get("certificates").get(0).get("revocationReason").asText()).isEqualTo("keyCompromise");
        CrlPublisher.PublishedCrl first = server.context().getBean(CrlPublisher.class).current();
        assertThat(first.crl().getRevokedCertificate(cert.getSerialNumber()).getRevocationReason())
                .isEqualTo(CRLReason.KEY_COMPROMISE);

        try (TestServer second = secondNode()) {
            CrlPublisher.PublishedCrl onSecond = second.context().getBean(CrlPublisher.class).current();
            X509CRL crl = onSecond.crl();
            crl.verify(server.caChain().get(0).getPublicKey());
            assertThat(onSecond.number()).isGreaterThan(first.number());
            assertThat(crl.isRevoked(cert)).isTrue();
        }
        assertThat(server.context().getBean(CrlPublisher.class).publishNow().number()).isGreaterThan(first.number() + 1);
    }

    /** A second node: its own data folder with the same CA, on the same registry. */
    private static TestServer secondNode() throws Exception {
        Path secondDir = Files.createTempDirectory("fleetkey-node2-");
        Files.createDirectories(secondDir.resolve("ca"));
        try (var files = Files.list(server.dataDir().resolve("ca"))) {
            for (Path f : files.toList()) {
                Files.copy(f, secondDir.resolve("ca").resolve(f.getFileName()));
            }
        }
        return TestServer.startIn(secondDir, registry());
    }

    @Test
    void two_nodes_appending_at_once_keep_one_audit_chain_and_an_altered_entry_is_found() throws Exception {
        try (TestServer second = secondNode()) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<String>> work = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                TestServer node = i % 2 == 0 ? server : second;
                String deviceId = "pg-chain-" + i;
                work.add(pool.submit(() -> node.registerDevice(deviceId, "pg-meters")));
            }
            for (Future<String> f : work) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();

            JsonNode onFirst = Json.parse(server.api("POST", "/api/v1/audit/verify", null).body());
            assertThat(onFirst.get("ok").asBoolean()).as(onFirst.toString()).isTrue();
            assertThat(onFirst.get("entries").asLong()).isEqualTo(onFirst.get("head").get("seq").asLong())
                    .isGreaterThanOrEqualTo(60);
            JsonNode onSecond = Json.parse(second.api("POST", "/api/v1/audit/verify", null).body());
            assertThat(onSecond.get("ok").asBoolean()).as(onSecond.toString()).isTrue();

            long seq = Json.parse(server.api("GET", "/api/v1/audit?deviceId=pg-chain-7", null).body())
                    .get("items").get(0).get("seq").asLong();
            try (Connection c = DriverManager.getConnection(URL + database, USER, PASSWORD);
                 Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE audit_events SET actor = 'api:someone-else' WHERE seq = " + seq);
                JsonNode altered = Json.parse(second.api("POST", "/api/v1/audit/verify", null).body());
                assertThat(altered.get("ok").asBoolean()).isFalse();
                assertThat(altered.get("broken").get("seq").asLong()).isEqualTo(seq);
                assertThat(altered.get("broken").get("problem").asText()).isEqualTo("altered");
                s.executeUpdate("UPDATE audit_events SET actor = 'api:admin (FLEETKEY_ADMIN_TOKEN)' WHERE seq = " + seq);
            }
            assertThat(Json.parse(server.api("POST", "/api/v1/audit/verify", null).body()).get("ok").asBoolean())
                    .isTrue();
        }
    }
}
