package io.fleetkey.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.server.registry.DeviceRevoked;
import io.fleetkey.server.registry.RevocationReason;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.RecordedRevocations;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Revoking one device through the fleet API over real HTTPS: the device and every certificate
 * it holds become REVOKED with the RFC 5280 reason, the audit log says who and why, the
 * application event goes out after the commit; and every way to ask wrongly.
 */
class RevocationApiIT {
    private static final String GROUP = "meters";
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
    void an_enrolled_device_is_revoked_with_all_its_certificates_and_the_revocation_is_audited() {
        String token = server.registerDevice("meter-0001", GROUP);
        KeyPair keys = TestPki.p256();
        X509Certificate first = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                TestPki.csr("meter-0001", keys), "meter-0001", token));
        X509Certificate renewed = TestServer.issuedCertificate(server.est(
                server.client(keys, server.withIssuingCa(first)), "simplereenroll",
                TestPki.csr("meter-0001", TestPki.p256()), null, null));
        String firstSerial = first.getSerialNumber().toString(16);
        String renewedSerial = renewed.getSerialNumber().toString(16);

        HttpResponse<String> r = revoke("meter-0001",
                "{\"reason\":\"keyCompromise\",\"note\":\"  case 4711: key found on a forum  \"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = Json.parse(r.body());
        assertThat(answer.get("deviceId").asText()).isEqualTo("meter-0001");
        assertThat(answer.get("group").asText()).isEqualTo(GROUP);
        assertThat(answer.get("status").asText()).isEqualTo("REVOKED");
        assertThat(answer.get("reason").asText()).isEqualTo("keyCompromise");
        assertThat(answer.get("note").asText()).isEqualTo("case 4711: key found on a forum");
        assertThat(answer.get("revokedAt").asText()).isNotBlank();
        assertThat(texts(answer.get("revokedSerials"))).containsExactlyInAnyOrder(firstSerial, renewedSerial);

        JsonNode detail = Json.parse(server.api("GET", "/api/v1/devices/meter-0001", null).body());
        assertThat(detail.get("status").asText()).isEqualTo("REVOKED");
        assertThat(detail.get("certificates")).hasSize(2);
        detail.get("certificates").forEach(c -> {
            assertThat(c.get("status").asText()).isEqualTo("REVOKED");
            assertThat(c.get("revocationReason").asText()).isEqualTo("keyCompromise");
            assertThat(c.get("revokedAt").asText()).isEqualTo(answer.get("revokedAt").asText());
        });
        JsonNode event = detail.get("events").get(0);
        assertThat(event.get("action").asText()).isEqualTo("device.revoked");
        assertThat(event.get("actor").asText()).isEqualTo("api:admin (FLEETKEY_ADMIN_TOKEN)");
        assertThat(event.get("detail").asText()).contains("reason keyCompromise").contains(firstSerial)
                .contains(renewedSerial).contains("note: case 4711: key found on a forum");

        DeviceRevoked published = server.context().getBean(RecordedRevocations.class).events().stream()
                .filter(e -> e.deviceId().equals("meter-0001")).findFirst().orElseThrow();
        assertThat(published.reason()).isEqualTo(RevocationReason.KEY_COMPROMISE);
        assertThat(published.note()).isEqualTo("case 4711: key found on a forum");
        assertThat(published.revokedSerials()).containsExactlyInAnyOrder(firstSerial, renewedSerial);
        assertThat(published.revokedAt().toString()).isEqualTo(answer.get("revokedAt").asText());
    }

    @Test
    void a_device_without_certificates_is_revoked_too() {
        server.registerDevice("meter-0002", GROUP);

        HttpResponse<String> r = revoke("meter-0002", "{\"reason\":\"cessationOfOperation\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Json.field(r.body(), "status")).isEqualTo("REVOKED");
        assertThat(Json.parse(r.body()).get("revokedSerials")).isEmpty();
        assertThat(Json.parse(r.body()).has("note")).isFalse();
        assertThat(total("status=REVOKED&idPrefix=meter-0002")).isEqualTo(1);
    }

    @Test
    void revoking_a_revoked_device_again_is_a_conflict_that_says_so() {
        server.registerDevice("meter-0003", GROUP);
        assertThat(revoke("meter-0003", "{\"reason\":\"superseded\"}").statusCode()).isEqualTo(200);

        HttpResponse<String> again = revoke("meter-0003", "{\"reason\":\"keyCompromise\"}");

        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Json.field(again.body(), "error")).isEqualTo("CONFLICT");
        assertThat(Json.field(again.body(), "message")).contains("'meter-0003' is already revoked since")
                .contains("permanent");
        JsonNode events = Json.parse(server.api("GET", "/api/v1/devices/meter-0003", null).body()).get("events");
        assertThat(events.findValuesAsText("action").stream().filter("device.revoked"::equals)).hasSize(1);
    }

    @Test
    void revoking_an_unknown_device_is_404() {
        HttpResponse<String> r = revoke("nobody-here", "{\"reason\":\"keyCompromise\"}");

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(Json.field(r.body(), "message")).contains("'nobody-here' is not registered");
    }

    @Test
    void revoking_without_a_token_is_401_and_changes_nothing() {
        server.registerDevice("meter-0004", GROUP);

        HttpResponse<String> r = server.send(server.client(), HttpRequest.newBuilder(
                        server.uri("/api/v1/devices/meter-0004/revoke"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"keyCompromise\"}")).build());

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(Json.field(server.api("GET", "/api/v1/devices/meter-0004", null).body(), "status"))
                .isEqualTo("REGISTERED");
    }

    @ParameterizedTest(name = "{0} is read as {1}")
    @CsvSource({
        "keyCompromise, keyCompromise",
        "KEYCOMPROMISE, keyCompromise",
        "KEY_COMPROMISE, keyCompromise",
        "cessationofoperation, cessationOfOperation",
        "superseded, superseded",
        "affiliationChanged, affiliationChanged",
        "privilegeWithdrawn, privilegeWithdrawn",
        "unspecified, unspecified"})
    void every_rfc_5280_reason_for_a_device_is_accepted_in_any_letter_case(String given, String stored) {
        String id = "reason-" + given;
        server.registerDevice(id, GROUP);

        HttpResponse<String> r = revoke(id, "{\"reason\":\"" + given + "\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Json.field(r.body(), "reason")).isEqualTo(stored);
    }

    static Stream<Arguments> refusedRequests() {
        return Stream.of(
                Arguments.of("certificateHold", "{\"reason\":\"certificateHold\"}", "revocation here is permanent", true),
                Arguments.of("removeFromCRL", "{\"reason\":\"removeFromCRL\"}", "lifts a certificate hold", true),
                Arguments.of("cACompromise", "{\"reason\":\"cACompromise\"}", "not a device's", true),
                Arguments.of("an unknown reason", "{\"reason\":\"toasted\"}", "'toasted' is not an RFC 5280 reason", true),
                Arguments.of("no reason", "{\"note\":\"why not\"}", "a revocation reason is required", true),
                Arguments.of("an empty reason", "{\"reason\":\"\"}", "a revocation reason is required", true),
                Arguments.of("no body", null, "send {\"reason\"", true),
                Arguments.of("a reason that is not a string", "{\"reason\":{\"code\":1}}", "", false),
                Arguments.of("a note that is too long", Json.write(Map.of("reason", "keyCompromise",
                        "note", "x".repeat(501))), "at most 500", false),
                Arguments.of("a note with control characters", Json.write(Map.of("reason", "keyCompromise",
                        "note", "bad\u001b[31m")), "control characters", false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedRequests")
    void a_revocation_asked_wrongly_is_400_with_what_to_send_and_changes_nothing(String why, String body,
                                                                               String message, boolean listsReasons) {
        String id = "refused-" + Math.abs(why.hashCode());
        server.registerDevice(id, GROUP);

        HttpResponse<String> r = revoke(id, body);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(Json.field(r.body(), "message")).contains(message).doesNotContain("Exception");
        if (listsReasons) {
            assertThat(Json.field(r.body(), "message")).contains(RevocationReason.names().toString());
        }
        assertThat(Json.field(server.api("GET", "/api/v1/devices/" + id, null).body(), "status"))
                .isEqualTo("REGISTERED");
    }

    @Test
    void a_revoked_device_gets_no_new_enrollment_token_and_no_approval() {
        server.registerDevice("meter-0005", GROUP);
        revoke("meter-0005", "{\"reason\":\"keyCompromise\"}");

        HttpResponse<String> token = server.api("POST", "/api/v1/devices/meter-0005/enrollment-token", null);
        HttpResponse<String> approval = server.api("POST", "/api/v1/devices/meter-0005/approve", null);

        assertThat(token.statusCode()).isEqualTo(409);
        assertThat(Json.field(token.body(), "message")).contains("revoked");
        assertThat(approval.statusCode()).isEqualTo(409);
    }

    private static HttpResponse<String> revoke(String deviceId, String json) {
        return server.api("POST", "/api/v1/devices/" + deviceId + "/revoke", json);
    }

    private static long total(String query) {
        return Json.parse(server.api("GET", "/api/v1/devices?" + query, null).body()).get("total").asLong();
    }

    private static List<String> texts(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
