package io.fleetkey.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.server.registry.AuditChain;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.Transactions;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.eclipse.californium.core.CoapResponse;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hash-chained audit log on a real server and its H2 file: what gets recorded (issuance,
 * renewal, refusal, approval, revocation, admin calls and denied ones) with actor and outcome;
 * paging; and verification that finds exactly the entry that was changed or deleted in the
 * database behind the server's back, and a cut-off tail. Tests that tamper put the rows back.
 */
class AuditLogIT {
    private static final String GROUP = "audited";
    private static final String ADMIN = "api:admin (FLEETKEY_ADMIN_TOKEN)";
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        server.createGroup(GROUP, "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void issuance_renewal_refusal_and_revocation_are_recorded_with_actor_and_outcome() {
        String token = server.registerDevice("audit-0001", GROUP);
        KeyPair keys = TestPki.p256();
        X509Certificate first = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                TestPki.csr("audit-0001", keys), "audit-0001", token));
        TestServer.issuedCertificate(server.est(server.client(keys, server.withIssuingCa(first)),
                "simplereenroll", TestPki.csr("audit-0001", TestPki.p256()), null, null));
        HttpResponse<String> wrongToken = server.est(server.client(), "simpleenroll",
                TestPki.csr("audit-0001", TestPki.p256()), "audit-0001", "not-the-token");
        assertThat(wrongToken.statusCode()).isGreaterThanOrEqualTo(400);
        assertThat(server.api("POST", "/api/v1/devices/audit-0001/revoke", "{\"reason\":\"keyCompromise\"}")
                .statusCode()).isEqualTo(200);

        List<JsonNode> events = items("deviceId=audit-0001");

        assertThat(events).extracting(e -> e.get("action").asText()).containsExactly("device.registered",
                "certificate.issued", "certificate.renewed", "enrollment.refused", "device.revoked");
        assertThat(events.get(0).get("actor").asText()).isEqualTo(ADMIN);
        assertThat(events.get(1).get("actor").asText()).isEqualTo("device:audit-0001");
        assertThat(events.get(1).get("outcome").asText()).isEqualTo("ok");
        assertThat(events.get(1).get("detail").asText()).contains(first.getSerialNumber().toString(16));
        assertThat(events.get(2).get("outcome").asText()).isEqualTo("ok");
        JsonNode refusal = events.get(3);
        assertThat(refusal.get("outcome").asText()).isEqualTo("refused");
        assertThat(refusal.get("subject").asText()).isEqualTo("audit-0001");
        assertThat(refusal.get("detail").asText()).startsWith("over https: NOT_AUTHENTICATED: ").doesNotContain("not-the-token");
        assertThat(events.get(4).get("actor").asText()).isEqualTo(ADMIN);
        assertThat(events.get(4).get("detail").asText()).contains("reason keyCompromise");
        events.forEach(e -> {
            assertThat(e.get("hash").asText()).matches("[0-9a-f]{64}");
            assertThat(e.get("occurredAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
        });
        // The revoked device asks again: refused, and recorded as such.
        server.est(server.client(), "simpleenroll", TestPki.csr("audit-0001", TestPki.p256()), "audit-0001", token);
        assertThat(items("deviceId=audit-0001&action=enrollment.refused")).last()
                .satisfies(e -> assertThat(e.get("detail").asText()).startsWith("over https: DEVICE_REVOKED: "));
    }

    @Test
    void an_approval_is_recorded_between_the_pending_request_and_the_issuance() {
        assertThat(server.api("POST", "/api/v1/groups",
                "{\"name\":\"audited-vaults\",\"profile\":\"device\",\"requireApproval\":true}").statusCode())
                .isEqualTo(201);
        String token = server.registerDevice("audit-vault-1", "audited-vaults");
        byte[] csr = TestPki.csr("audit-vault-1", TestPki.p256());
        assertThat(server.est(server.client(), "simpleenroll", csr, "audit-vault-1", token).statusCode()).isEqualTo(202);
        assertThat(server.api("POST", "/api/v1/devices/audit-vault-1/approve", null).statusCode()).isEqualTo(200);
        TestServer.issuedCertificate(server.est(server.client(), "simpleenroll", csr, "audit-vault-1", token));

        List<JsonNode> events = items("deviceId=audit-vault-1");

        assertThat(events).extracting(e -> e.get("action").asText() + " " + e.get("outcome").asText()
                + " " + e.get("actor").asText()).containsExactly(
                "device.registered ok " + ADMIN,
                "enrollment.pending pending device:audit-vault-1",
                "device.approved ok " + ADMIN,
                "certificate.issued ok device:audit-vault-1");
        assertThat(items("action=group.created")).anySatisfy(e -> {
            assertThat(e.get("subject").asText()).isEqualTo("group:audited-vaults");
            assertThat(e.get("actor").asText()).isEqualTo(ADMIN);
        });
    }

    @Test
    void a_refusal_on_the_coaps_door_is_recorded_as_on_https_and_garbage_is_not() throws Exception {
        server.registerDevice("audit-coap-1", GROUP);
        long before = lastSeq();
        try (CoapsTestClient c = CoapsTestClient.to(server).timeout(Duration.ofSeconds(10)).build()) {
            CoapResponse wrong = c.enroll("sen", TestPki.csrWithToken("audit-coap-1", TestPki.p256(), "not-it"), -1);
            assertThat(wrong.getCode().value).as(CoapsTestClient.describe(wrong)).isGreaterThanOrEqualTo(128);
            for (int i = 0; i < 5; i++) {
                CoapResponse garbage = c.enroll("sen", ("garbage " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), -1);
                assertThat(garbage.getCode().value).isGreaterThanOrEqualTo(128);
            }
        }

        List<JsonNode> refused = items("deviceId=audit-coap-1&action=enrollment.refused");

        assertThat(refused).singleElement().satisfies(e -> {
            assertThat(e.get("actor").asText()).isEqualTo("device:audit-coap-1");
            assertThat(e.get("outcome").asText()).isEqualTo("refused");
            assertThat(e.get("detail").asText()).startsWith("over coaps: NOT_AUTHENTICATED: ").doesNotContain("not-it");
        });
        // The wrong token is one entry; the garbage left none.
        assertThat(lastSeq()).isEqualTo(before + 1);
    }

    @Test
    void refusals_of_one_device_are_recorded_at_most_ten_a_minute() throws Exception {
        server.registerDevice("audit-flood-1", GROUP);
        int second = java.time.LocalTime.now(java.time.ZoneOffset.UTC).getSecond();
        if (second > 40) {
            Thread.sleep((61 - second) * 1000L); // all requests within one minute of the server's clock
        }
        for (int i = 0; i < 15; i++) {
            assertThat(server.est(server.client(), "simpleenroll", TestPki.csr("audit-flood-1", TestPki.p256()),
                    "audit-flood-1", "guess-" + i).statusCode()).isGreaterThanOrEqualTo(400);
        }

        assertThat(items("deviceId=audit-flood-1&action=enrollment.refused")).hasSize(10);
    }

    @Test
    void a_device_that_is_not_registered_leaves_no_entry_only_the_rejected_traffic_log() {
        HttpResponse<String> r = server.est(server.client(), "simpleenroll", TestPki.csr("nobody-0001", TestPki.p256()),
                "nobody-0001", "guess");

        assertThat(r.statusCode()).isGreaterThanOrEqualTo(400);
        assertThat(items("deviceId=nobody-0001")).isEmpty();
    }

    @Test
    void admin_calls_that_change_something_are_recorded_with_method_path_and_status_whatever_the_answer() {
        server.registerDevice("audit-0100", GROUP);
        server.api("POST", "/api/v1/devices/audit-0100/revoke", "{\"reason\":\"superseded\"}");
        server.api("POST", "/api/v1/devices/audit-0100/revoke", "{\"reason\":\"superseded\"}");
        server.api("GET", "/api/v1/devices/audit-0100", null);

        List<JsonNode> calls = items("action=api.call");

        assertThat(calls).extracting(e -> e.get("detail").asText() + " " + e.get("outcome").asText())
                .contains("POST /api/v1/devices -> 201 ok",
                        "POST /api/v1/devices/audit-0100/revoke -> 200 ok",
                        "POST /api/v1/devices/audit-0100/revoke -> 409 refused")
                .noneMatch(d -> d.startsWith("GET "));
        assertThat(calls).allSatisfy(e -> assertThat(e.get("actor").asText()).isEqualTo(ADMIN));
        // The registration's answer holds the device's token; the log holds no token at all.
        assertThat(items("").toString()).doesNotContain(TestServer.ADMIN_TOKEN);
    }

    @Test
    void calls_without_a_valid_token_are_401_and_recorded_as_denied_without_the_token() {
        for (String[] call : new String[][]{{"GET", "/api/v1/audit"}, {"POST", "/api/v1/audit/verify"},
                {"GET", "/api/v1/audit/verify"}, {"POST", "/api/v1/devices"}}) {
            HttpResponse<String> none = send(call[0], call[1], null);
            HttpResponse<String> wrong = send(call[0], call[1], "wrong-token-0123456789");
            assertThat(none.statusCode()).as(call[1]).isEqualTo(401);
            assertThat(wrong.statusCode()).as(call[1]).isEqualTo(401);
        }

        List<JsonNode> denied = items("action=api.denied");

        assertThat(denied).extracting(e -> e.get("detail").asText())
                .contains("GET /api/v1/audit -> 401", "POST /api/v1/audit/verify -> 401");
        assertThat(denied).allSatisfy(e -> {
            assertThat(e.get("actor").asText()).isEqualTo("anonymous");
            assertThat(e.get("outcome").asText()).isEqualTo("denied");
        });
        assertThat(denied.toString()).doesNotContain("wrong-token");
    }

    @Test
    void pages_follow_the_sequence_with_a_cursor_until_the_last() {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 25; i++) {
            ids.append(i == 0 ? "" : ",").append("\"page-").append(i).append('"');
        }
        assertThat(server.api("POST", "/api/v1/devices/bulk", "{\"group\":\"" + GROUP + "\",\"deviceIds\":["
                + ids + "]}").statusCode()).isEqualTo(201);
        List<Long> seqs = new ArrayList<>();
        List<String> devices = new ArrayList<>();
        Long after = 0L;
        int pages = 0;
        while (after != null) {
            JsonNode page = Json.parse(ok(server.api("GET", "/api/v1/audit?action=device.registered&limit=10&after="
                    + after, null)).body());
            page.get("items").forEach(e -> {
                seqs.add(e.get("seq").asLong());
                devices.add(e.get("deviceId").asText());
            });
            after = page.has("next") ? page.get("next").asLong() : null;
            pages++;
        }

        assertThat(devices).contains("page-0", "page-24").filteredOn(d -> d.startsWith("page-")).hasSize(25);
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        assertThat(pages).isEqualTo(seqs.size() / 10 + 1);
        JsonNode all = Json.parse(ok(server.api("GET", "/api/v1/audit?limit=1000", null)).body());
        long previous = 0;
        for (JsonNode e : all.get("items")) {
            assertThat(e.get("seq").asLong()).isEqualTo(previous + 1);
            previous = e.get("seq").asLong();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "limit=0|limit must be a whole number from 1 to 1000",
            "limit=1001|limit must be a whole number from 1 to 1000",
            "limit=ten|limit must be a whole number from 1 to 1000, not 'ten'",
            "after=-1|after must be a whole number from 0",
            "after=1.5|after must be a whole number from 0",
            "deviceId=no%20spaces|deviceId must be a device id",
            "action=DROP%20TABLE|action must be an action name"})
    void bad_query_parameters_are_400_with_the_reason(String query, String message) {
        HttpResponse<String> r = server.api("GET", "/api/v1/audit?" + query, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(Json.field(r.body(), "error")).isEqualTo("INVALID");
        assertThat(Json.field(r.body(), "message")).contains(message);
    }

    @Test
    void verification_walks_the_whole_chain_to_the_head() {
        server.registerDevice("audit-0200", GROUP);

        JsonNode v = verify();

        assertThat(v.get("ok").asBoolean()).as(v.toString()).isTrue();
        assertThat(v.has("broken")).isFalse();
        long head = v.get("head").get("seq").asLong();
        assertThat(v.get("entries").asLong()).isEqualTo(head).isGreaterThan(2);
        assertThat(v.get("head").get("hash").asText()).isEqualTo(entry(head).get("hash").asText());
    }

    @Test
    void an_entry_changed_in_the_database_is_reported_as_exactly_that_entry() throws Exception {
        server.registerDevice("audit-0300", GROUP);
        long seq = items("deviceId=audit-0300").get(0).get("seq").asLong();
        String detail = column(seq, "detail");
        try {
            sql("UPDATE audit_events SET detail = 'group nothing-to-see' WHERE seq = " + seq);

            JsonNode v = verify();

            assertThat(v.get("ok").asBoolean()).isFalse();
            assertThat(v.get("entries").asLong()).isEqualTo(seq - 1);
            assertThat(v.get("broken").get("seq").asLong()).isEqualTo(seq);
            assertThat(v.get("broken").get("problem").asText()).isEqualTo("altered");
            assertThat(v.get("broken").get("message").asText()).contains("entry " + seq + " does not match its hash");
        } finally {
            sql("UPDATE audit_events SET detail = '" + detail + "' WHERE seq = " + seq);
        }
        assertThat(verify().get("ok").asBoolean()).isTrue();
    }

    @Test
    void a_changed_time_is_found_too() throws Exception {
        server.registerDevice("audit-0301", GROUP);
        long seq = items("deviceId=audit-0301").get(0).get("seq").asLong();
        try (Connection c = server.context().getBean(DataSource.class).getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE audit_events SET occurred_at = ? WHERE seq = ?")) {
            Instant original;
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT occurred_at FROM audit_events WHERE seq = " + seq)) {
                rs.next();
                original = rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
            }
            ps.setObject(1, original.plusNanos(1000).atOffset(java.time.ZoneOffset.UTC));
            ps.setLong(2, seq);
            ps.executeUpdate();
            try {
                JsonNode v = verify();
                assertThat(v.get("broken").get("seq").asLong()).isEqualTo(seq);
                assertThat(v.get("broken").get("problem").asText()).isEqualTo("altered");
            } finally {
                ps.setObject(1, original.atOffset(java.time.ZoneOffset.UTC));
                ps.executeUpdate();
            }
        }
        assertThat(verify().get("ok").asBoolean()).isTrue();
    }

    @Test
    void a_deleted_entry_is_reported_as_the_gap_it_leaves() throws Exception {
        server.registerDevice("audit-0400", GROUP);
        server.registerDevice("audit-0401", GROUP);
        long seq = items("deviceId=audit-0400").get(0).get("seq").asLong();
        sql("CREATE TABLE audit_kept AS SELECT * FROM audit_events WHERE seq = " + seq);
        try {
            sql("DELETE FROM audit_events WHERE seq = " + seq);

            JsonNode v = verify();

            assertThat(v.get("ok").asBoolean()).isFalse();
            assertThat(v.get("broken").get("seq").asLong()).isEqualTo(seq);
            assertThat(v.get("broken").get("problem").asText()).isEqualTo("deleted");
            assertThat(v.get("broken").get("message").asText()).contains("entry " + seq + " missing");
        } finally {
            sql("INSERT INTO audit_events SELECT * FROM audit_kept");
            sql("DROP TABLE audit_kept");
        }
        assertThat(verify().get("ok").asBoolean()).isTrue();
    }

    @Test
    void a_cut_off_tail_is_found_against_the_head() throws Exception {
        server.registerDevice("audit-0500", GROUP);
        // The registration's API call is the last entry; nothing is appended between here and the check.
        long head = lastSeq();
        sql("CREATE TABLE audit_kept AS SELECT * FROM audit_events WHERE seq >= " + (head - 1));
        try {
            sql("DELETE FROM audit_events WHERE seq >= " + (head - 1));

            JsonNode v = verify();

            assertThat(v.get("ok").asBoolean()).isFalse();
            assertThat(v.get("broken").get("problem").asText()).isEqualTo("truncated");
            assertThat(v.get("broken").get("seq").asLong()).isEqualTo(head - 1);
            assertThat(v.get("head").get("seq").asLong()).isEqualTo(head);
        } finally {
            sql("INSERT INTO audit_events SELECT * FROM audit_kept");
            sql("DROP TABLE audit_kept");
        }
        assertThat(verify().get("ok").asBoolean()).isTrue();
    }

    @Test
    void a_changed_head_is_found_against_the_last_entry() throws Exception {
        server.registerDevice("audit-0600", GROUP);
        long head = lastSeq();
        String hash = column(head, "entry_hash");
        try {
            // GET verifies without being recorded, so nothing chains to the changed head meanwhile.
            sql("UPDATE audit_chain_head SET last_hash = '" + "ab".repeat(32) + "'");

            JsonNode v = Json.parse(ok(server.api("GET", "/api/v1/audit/verify", null)).body());

            assertThat(v.get("ok").asBoolean()).isFalse();
            assertThat(v.get("broken").get("problem").asText()).isEqualTo("head");
            assertThat(v.get("broken").get("seq").asLong()).isEqualTo(head);
            assertThat(v.get("entries").asLong()).isEqualTo(head);
        } finally {
            sql("UPDATE audit_chain_head SET last_hash = '" + hash + "'");
        }
        assertThat(verify().get("ok").asBoolean()).isTrue();
    }

    @Test
    void concurrent_appenders_leave_one_unbroken_chain_and_rolled_back_entries_leave_no_trace() throws Exception {
        AuditLog audit = server.context().getBean(AuditLog.class);
        Transactions tx = server.context().getBean(Transactions.class);
        long before = lastSeq();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            work.add(pool.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    AuditEvent e = new AuditEvent(Instant.now(), "test:" + thread, "test.concurrent", null, "i " + i);
                    if (i % 5 == 4) {
                        try {
                            tx.inTransaction(() -> {
                                audit.append(e);
                                throw new IllegalStateException("rolled back");
                            });
                        } catch (IllegalStateException expected) {
                            // the entry must not appear
                        }
                    } else if (i % 2 == 0) {
                        tx.inTransaction(() -> {
                            audit.append(e);
                            audit.append(e);
                            return null;
                        });
                    } else {
                        audit.append(e);
                    }
                }
                return null;
            }));
        }
        // Meanwhile, admin calls append through the server as usual.
        for (int i = 0; i < 10; i++) {
            server.registerDevice("concurrent-" + i, GROUP);
        }
        for (Future<?> f : work) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();

        // Per thread: 5 rolled back, 10 transactions of two, 10 alone = 30 entries.
        assertThat(countRows("action = 'test.concurrent'")).isEqualTo(8 * 30);
        JsonNode v = verify();
        assertThat(v.get("ok").asBoolean()).as(v.toString()).isTrue();
        assertThat(v.get("entries").asLong()).isGreaterThanOrEqualTo(before + 8 * 30 + 20);
        assertThat(countRows("1 = 1")).isEqualTo(lastSeq());
    }

    @Test
    void entries_written_before_the_chain_existed_are_numbered_and_chained_in_order_at_start_up() throws Exception {
        Path dataDir = Files.createTempDirectory("fleetkey-audit-upgrade-");
        String url = "jdbc:h2:file:" + dataDir.resolve("db").resolve("fleetkey").toAbsolutePath();
        Flyway.configure().dataSource(url, "sa", "").locations("classpath:db/migration").target("5").load().migrate();
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (id, occurred_at, actor, action, "
                     + "device_id, detail) VALUES (?, ?, 'api:old', ?, ?, ?)")) {
            // Ids with a gap, as a rolled-back insert leaves them; the order is the ids' order.
            long[] ids = {3, 7, 8};
            for (int i = 0; i < ids.length; i++) {
                ps.setLong(1, ids[i]);
                ps.setObject(2, Instant.parse("2026-01-0" + (i + 1) + "T10:00:00.123456Z").atOffset(ZoneOffset.UTC));
                ps.setString(3, i == 1 ? "group.created" : "device.registered");
                ps.setString(4, i == 1 ? null : "old-" + i);
                ps.setString(5, "entry " + i);
                ps.executeUpdate();
            }
        }

        try (TestServer upgraded = TestServer.startIn(dataDir, Map.of())) {
            JsonNode v = Json.parse(ok(upgraded.api("POST", "/api/v1/audit/verify", null)).body());
            JsonNode page = Json.parse(ok(upgraded.api("GET", "/api/v1/audit?limit=3", null)).body());

            assertThat(v.get("ok").asBoolean()).as(v.toString()).isTrue();
            assertThat(v.get("entries").asLong()).isGreaterThanOrEqualTo(3);
            List<String> details = new ArrayList<>();
            page.get("items").forEach(e -> details.add(e.get("seq").asLong() + " " + e.get("detail").asText()
                    + " " + e.get("outcome").asText() + " " + e.get("actor").asText()));
            assertThat(details).containsExactly("1 entry 0 ok api:old", "2 entry 1 ok api:old", "3 entry 2 ok api:old");
            // The same rows always chain to the same hashes.
            String expected = AuditChain.GENESIS;
            for (JsonNode e : page.get("items")) {
                expected = AuditChain.hash(expected, e.get("seq").asLong(), new AuditEvent(
                        Instant.parse(e.get("occurredAt").asText()), "api:old", e.get("action").asText(),
                        e.path("deviceId").isMissingNode() ? null : e.get("deviceId").asText(),
                        e.path("subject").isMissingNode() ? null : e.get("subject").asText(), "ok",
                        e.get("detail").asText()));
                assertThat(e.get("hash").asText()).isEqualTo(expected);
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static List<JsonNode> items(String query) {
        List<JsonNode> items = new ArrayList<>();
        Long after = 0L;
        while (after != null) {
            JsonNode page = Json.parse(ok(server.api("GET", "/api/v1/audit?limit=1000&after=" + after
                    + (query.isEmpty() ? "" : "&" + query), null)).body());
            page.get("items").forEach(items::add);
            after = page.has("next") ? page.get("next").asLong() : null;
        }
        return items;
    }

    private static JsonNode entry(long seq) {
        return Json.parse(ok(server.api("GET", "/api/v1/audit?limit=1&after=" + (seq - 1), null)).body())
                .get("items").get(0);
    }

    private static JsonNode verify() {
        return Json.parse(ok(server.api("POST", "/api/v1/audit/verify", null)).body());
    }

    private static HttpResponse<String> ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r;
    }

    private static HttpResponse<String> send(String method, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return server.send(server.client(), b.build());
    }

    /** SQL straight on the server's H2 file, past the server, as someone with database access would. */
    private static void sql(String statement) throws SQLException {
        try (Connection c = server.context().getBean(DataSource.class).getConnection();
             Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private static String column(long seq, String column) throws SQLException {
        try (Connection c = server.context().getBean(DataSource.class).getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + column + " FROM audit_events WHERE seq = " + seq)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long lastSeq() throws SQLException {
        try (Connection c = server.context().getBean(DataSource.class).getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_seq FROM audit_chain_head")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long countRows(String where) throws SQLException {
        try (Connection c = server.context().getBean(DataSource.class).getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM audit_events WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
