package io.fleetkey.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * revoke-by and audit against a small HTTPS stub that answers with sample JSON: what the
 * commands send (the dry run first, then the count it found as expectedCount), and how they end
 * (exit statuses, messages). The stub proves nothing about the server; FleetkeyCliIT holds the
 * end-to-end test for when the server has these endpoints.
 */
class FleetkeyCliStubTest {
    record Exchange(String method, String uri, String body) {
    }

    private final Deque<String[]> answers = new ArrayDeque<>();
    private final List<Exchange> exchanges = new ArrayList<>();
    private HttpsServer stub;
    private Path cacert;

    @TempDir
    Path work;

    @BeforeEach
    void start() throws Exception {
        TestPki.Ca ca = TestPki.ca("Stub CA");
        KeyPair keys = TestPki.p256();
        X509Certificate tls = ca.issueServer("CN=localhost", keys, Duration.ofDays(1), "localhost");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("tls", keys.getPrivate(), "x".toCharArray(), new Certificate[] {tls, ca.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "x".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        stub = HttpsServer.create(new InetSocketAddress("localhost", 0), 0);
        stub.setHttpsConfigurator(new HttpsConfigurator(ssl));
        stub.createContext("/api/v1/", exchange -> {
            exchanges.add(new Exchange(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            String[] answer = answers.isEmpty() ? new String[] {"500", "{}"} : answers.removeFirst();
            byte[] body = answer[1].replace('\'', '"').getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(Integer.parseInt(answer[0]), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        stub.start();
        cacert = work.resolve("stub-ca.pem");
        Files.writeString(cacert, Certificates.toPem(List.of(ca.certificate())));
    }

    @AfterEach
    void stop() {
        stub.stop(0);
    }

    private void answer(int status, String json) {
        answers.add(new String[] {String.valueOf(status), json});
    }

    private FleetkeyCliIT.Run fleetkey(String... args) {
        List<String> all = new ArrayList<>(List.of("--server", "https://localhost:" + stub.getAddress().getPort(),
                "--cacert", cacert.toString()));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = FleetkeyCli.run(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(FleetkeyCli.TOKEN_ENV, "stub-token"));
        return new FleetkeyCliIT.Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static final String DRY_RUN = "{'dryRun': true, 'matched': 3, 'alreadyRevoked': 1,"
            + " 'sample': ['pos-1', 'pos-2', 'pos-3'], 'revoked': 0, 'revokedSerials': 0, 'reason': 'keyCompromise'}";

    @Test
    void yes_runs_the_dry_run_first_then_revokes_exactly_the_count_it_found() throws IOException {
        Path ids = work.resolve("ids.txt");
        Files.writeString(ids, "deviceId\n# recalled\npos-1\npos-2\n\npos-3\npos-4\n");
        answer(200, DRY_RUN);
        answer(200, "{'dryRun': false, 'matched': 3, 'alreadyRevoked': 1, 'sample': ['pos-1', 'pos-2', 'pos-3'],"
                + " 'revoked': 3, 'revokedSerials': 4, 'reason': 'keyCompromise'}");

        var r = fleetkey("devices", "revoke-by", "--group", "kiosks", "--ids-file", ids.toString(), "--reason",
                "keyCompromise", "--note", "recall 12", "--yes");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(exchanges).hasSize(2);
        assertThat(exchanges.get(0).uri()).isEqualTo("/api/v1/revocations");
        assertThat(Json.parse(exchanges.get(0).body())).isEqualTo(Json.parse(("{'filter': {'group': 'kiosks',"
                + " 'deviceIds': ['pos-1', 'pos-2', 'pos-3', 'pos-4']}, 'reason': 'keyCompromise', 'note': 'recall 12',"
                + " 'dryRun': true}").replace('\'', '"')));
        var revoke = Json.parse(exchanges.get(1).body());
        assertThat(revoke.get("dryRun").asBoolean()).isFalse();
        assertThat(revoke.get("expectedCount").asInt()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("3 device(s) match (1 more are revoked already and not counted)\n"
                + "devices: pos-1, pos-2, pos-3\nrevoked 3 device(s) and 4 certificate(s), reason keyCompromise\n");
    }

    @Test
    void a_set_that_changed_since_the_dry_run_is_refused_and_said_so() {
        answer(200, DRY_RUN);
        answer(409, "{'error': 'CONFLICT', 'message': '4 devices match, not 3', 'matched': 4}");

        var r = fleetkey("devices", "revoke-by", "--sw-version", "2.1.0", "--reason", "superseded", "--yes");

        assertThat(r.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(r.err()).contains("the matching devices changed since the dry run (4 match now, 3 then); "
                + "nothing was revoked");
    }

    @Test
    void dry_run_and_a_wrong_expectation_revoke_nothing() {
        answer(200, DRY_RUN);
        var dry = fleetkey("devices", "revoke-by", "--group", "kiosks", "--reason", "keyCompromise", "--dry-run");
        answer(200, DRY_RUN);
        var expected = fleetkey("devices", "revoke-by", "--group", "kiosks", "--reason", "keyCompromise", "--yes",
                "--expect", "2");
        answer(400, "{'error': 'INVALID', 'message': 'unknown reason certificateHold'}");
        var refused = fleetkey("devices", "revoke-by", "--group", "kiosks", "--reason", "certificateHold",
                "--dry-run");

        assertThat(dry.exitCode()).isZero();
        assertThat(dry.out()).endsWith("nothing was revoked (dry run); to revoke them, run the same command with "
                + "--yes instead of --dry-run\n");
        assertThat(expected.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(expected.err()).contains("3 device(s) match, not the 2 expected by --expect; nothing was revoked");
        assertThat(refused.exitCode()).isEqualTo(FleetkeyCli.REFUSED);
        assertThat(refused.err()).contains("unknown reason certificateHold (HTTP 400 INVALID)");
        assertThat(exchanges).hasSize(3).allSatisfy(e -> assertThat(Json.parse(e.body()).get("dryRun").asBoolean())
                .isTrue());
    }

    @Test
    void audit_list_sends_its_filters_and_verify_exits_4_on_a_break() {
        answer(200, "{'items': [{'seq': 8, 'action': 'device.revoked', 'deviceId': 'pos-1'}], 'next': 8}");
        var list = fleetkey("audit", "list", "--after", "7", "--limit", "1", "--device", "pos-1", "--action",
                "device.revoked");
        answer(200, "{'ok': false, 'entries': 4, 'head': {'seq': 9, 'hash': 'ab'},"
                + " 'broken': {'seq': 5, 'problem': 'deleted', 'message': 'entry 5 is missing'}}");
        var broken = fleetkey("audit", "verify");
        answer(200, "{'ok': true, 'entries': 9, 'head': {'seq': 9, 'hash': 'ab'}}");
        var intact = fleetkey("--json", "audit", "verify");

        assertThat(exchanges.get(0).uri())
                .isEqualTo("/api/v1/audit?after=7&limit=1&deviceId=pos-1&action=device.revoked");
        assertThat(list.out()).contains("pos-1").endsWith("more: --after 8\n");
        assertThat(exchanges.get(1).method()).isEqualTo("POST");
        assertThat(exchanges.get(1).uri()).isEqualTo("/api/v1/audit/verify");
        assertThat(broken.exitCode()).isEqualTo(FleetkeyCli.AUDIT_BROKEN);
        assertThat(broken.out()).startsWith("the audit log is BROKEN at entry 5 (deleted): entry 5 is missing\n");
        assertThat(intact.exitCode()).isZero();
        assertThat(Json.parse(intact.out()).get("head").get("seq").asInt()).isEqualTo(9);
    }

    @Test
    void an_anchor_kept_from_an_earlier_verify_is_checked_against_the_entry_now() {
        String kept = "1f".repeat(32);
        String intact = "{'ok': true, 'entries': 30, 'head': {'seq': 30, 'hash': '" + "2e".repeat(32) + "'}}";
        answer(200, intact);
        answer(200, "{'items': [{'seq': 12, 'hash': '" + kept + "'}], 'next': 12}");
        var holds = fleetkey("audit", "verify", "--anchor", "12:" + kept);
        answer(200, intact);
        answer(200, "{'items': [{'seq': 12, 'hash': '" + "3d".repeat(32) + "'}], 'next': 12}");
        var rewritten = fleetkey("audit", "verify", "--anchor", "12:" + kept);
        var malformed = fleetkey("audit", "verify", "--anchor", "12");

        assertThat(holds.exitCode()).as(holds.err()).isZero();
        assertThat(holds.out()).endsWith("the anchor holds: entry 12 still has the kept hash\n");
        assertThat(exchanges.get(1).uri()).isEqualTo("/api/v1/audit?after=11&limit=1");
        assertThat(rewritten.exitCode()).isEqualTo(FleetkeyCli.AUDIT_BROKEN);
        assertThat(rewritten.out()).contains("the anchor does NOT hold: entry 12 now has hash " + "3d".repeat(32));
        assertThat(malformed.exitCode()).isEqualTo(FleetkeyCli.USAGE);
        assertThat(exchanges).hasSize(4);
    }
}
