package io.fleetkey.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

/**
 * The fleet-manager API over real HTTPS: bearer-token protection of every operation, groups,
 * single and bulk registration, listing, device detail, approval, token renewal, the CA chain,
 * health and the OpenAPI document. Every answer is checked to carry no Java internals.
 */
class FleetApiIT {
    private static final String GROUP = "meters";
    private static final String OPENAPI = "/openapi/fleetkey-1.yml";

    /** A fleet API operation with sample path parameters and a body that would succeed when authorized. */
    record Operation(String method, String template, String body) {
        String path() {
            return template.replace("{name}", "intruders").replace("{deviceId}", "intruder-1");
        }

        @Override
        public String toString() {
            return method + " " + template;
        }
    }

    /** Every operation under /api/v1; kept equal to the OpenAPI document by a test below. */
    static final List<Operation> OPERATIONS = List.of(
            new Operation("GET", "/api/v1/groups", null),
            new Operation("POST", "/api/v1/groups", "{\"name\":\"intruders\",\"profile\":\"device\"}"),
            new Operation("GET", "/api/v1/groups/{name}", null),
            new Operation("PATCH", "/api/v1/groups/{name}", "{\"requireApproval\":false}"),
            new Operation("GET", "/api/v1/groups/{name}/attestation", null),
            new Operation("PATCH", "/api/v1/groups/{name}/attestation", "{\"mode\":\"off\"}"),
            new Operation("POST", "/api/v1/groups/{name}/attestation/digests",
                    "{\"component\":\"firmware\",\"sha256\":\"" + "00".repeat(32) + "\"}"),
            new Operation("DELETE", "/api/v1/groups/{name}/attestation/digests", null),
            new Operation("GET", "/api/v1/devices/{deviceId}/attestations", null),
            new Operation("GET", "/api/v1/devices", null),
            new Operation("POST", "/api/v1/devices", "{\"deviceId\":\"intruder-1\",\"group\":\"" + GROUP + "\"}"),
            new Operation("POST", "/api/v1/devices/bulk", "{\"group\":\"" + GROUP + "\",\"deviceIds\":[\"intruder-2\"]}"),
            new Operation("GET", "/api/v1/devices/{deviceId}", null),
            new Operation("POST", "/api/v1/devices/{deviceId}/approve", null),
            new Operation("POST", "/api/v1/devices/{deviceId}/enrollment-token", null),
            new Operation("POST", "/api/v1/devices/{deviceId}/revoke", "{\"reason\":\"keyCompromise\"}"),
            new Operation("POST", "/api/v1/devices/{deviceId}/renew-now", null),
            new Operation("POST", "/api/v1/revocations",
                    "{\"filter\":{\"group\":\"" + GROUP + "\"},\"reason\":\"keyCompromise\",\"dryRun\":true}"),
            new Operation("GET", "/api/v1/ca/chain", null),
            new Operation("GET", "/api/v1/audit", null),
            new Operation("GET", "/api/v1/audit/verify", null),
            new Operation("POST", "/api/v1/audit/verify", null));

    /** What must never reach a client: stack frames, exception or internal class names. */
    private static final List<Pattern> JAVA_INTERNALS = List.of(
            Pattern.compile("\\bat [\\w$.]+\\([\\w$.]*(:\\d+)?\\)"),
            Pattern.compile("Exception"),
            Pattern.compile("\\b[A-Z][a-z]+[A-Za-z]*Error\\b"),
            Pattern.compile("\\b(java|javax|jakarta|io\\.micronaut|io\\.netty|io\\.fleetkey|com\\.fasterxml|org\\.h2"
                    + "|org\\.bouncycastle|org\\.postgresql|com\\.zaxxer)\\.[a-z]"),
            Pattern.compile("\\$[A-Z]\\w*"));

    private static TestServer server;
    private static HttpClient https;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        https = server.client();
        server.createGroup(GROUP, "device");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // ---- authentication ----------------------------------------------------------------------

    static Stream<Operation> operations() {
        return OPERATIONS.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void an_operation_without_a_token_is_refused_with_401_and_a_bearer_challenge(Operation op) {
        HttpResponse<String> r = send(op.method(), op.path(), null, op.body());

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                v -> assertThat(v).startsWith("Bearer "));
        assertThat(Json.field(r.body(), "message")).contains("Authorization: Bearer");
        assertNothingChangedByIntruders();
    }

    static Stream<Arguments> operationsWithWrongCredentials() {
        List<String> wrong = List.of(
                "Bearer not-the-admin-token-0123456789",
                "Bearer ",
                "Bearer " + TestServer.ADMIN_TOKEN + "x",
                "Basic " + Base64.getEncoder().encodeToString(("admin:" + TestServer.ADMIN_TOKEN)
                        .getBytes(StandardCharsets.UTF_8)),
                TestServer.ADMIN_TOKEN);
        return OPERATIONS.stream().flatMap(op -> wrong.stream().map(w -> Arguments.of(op, w)));
    }

    @ParameterizedTest(name = "{0} with Authorization: {1}")
    @MethodSource("operationsWithWrongCredentials")
    void an_operation_with_a_wrong_token_is_refused_with_401_and_a_bearer_challenge(Operation op, String authorization) {
        HttpResponse<String> r = send(op.method(), op.path(), authorization, op.body());

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                v -> assertThat(v).startsWith("Bearer "));
        assertThat(Json.field(r.body(), "error")).isEqualTo("UNAUTHORIZED");
        assertNothingChangedByIntruders();
    }

    @Test
    void the_operations_checked_for_authentication_are_all_that_the_openapi_document_lists() {
        HttpResponse<String> r = send("GET", OPENAPI, null, null);
        assertThat(r.statusCode()).isEqualTo(200);

        Map<String, Map<String, Object>> paths = new Yaml().<Map<String, Map<String, Map<String, Object>>>>load(r.body())
                .get("paths");
        Set<String> documented = new TreeSet<>();
        paths.forEach((path, methods) -> {
            if (path.startsWith("/api/")) {
                methods.keySet().forEach(m -> documented.add(m.toUpperCase() + " " + path));
            }
        });
        Set<String> checked = new TreeSet<>();
        OPERATIONS.forEach(op -> checked.add(op.toString()));
        assertThat(checked).isEqualTo(documented);
    }

    static Stream<String> respelledPaths() {
        return Stream.of("//api/v1/groups", "/api/v1//groups", "/api/v1/groups/", "/api/v1/groups;x=y",
                "/./api/v1/groups", "/.well-known/est/../../api/v1/groups", "/openapi/../api/v1/groups",
                "/%61pi/v1/groups", "/api%2Fv1%2Fgroups", "/API/v1/groups");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("respelledPaths")
    void a_respelled_path_does_not_slip_past_the_token_check(String path) {
        HttpResponse<String> r = send("GET", path, null, null);

        assertThat(r.statusCode()).isIn(401, 404);
        assertThat(r.body()).doesNotContain(GROUP);
    }

    @Test
    void the_bearer_scheme_name_is_case_insensitive() {
        HttpResponse<String> r = send("GET", "/api/v1/groups", "bearer " + TestServer.ADMIN_TOKEN, null);

        assertThat(r.statusCode()).isEqualTo(200);
    }

    // ---- groups ------------------------------------------------------------------------------

    @Test
    void a_group_is_created_once() {
        HttpResponse<String> created = api("POST", "/api/v1/groups", "{\"name\":\"lamps\",\"profile\":\"device\"}");

        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode group = Json.parse(created.body());
        assertThat(group.get("name").asText()).isEqualTo("lamps");
        assertThat(group.get("profile").asText()).isEqualTo("device");
        assertThat(group.get("requireApproval").asBoolean()).isFalse();
        assertThat(Json.parse(api("GET", "/api/v1/groups/lamps", null).body()).get("name").asText()).isEqualTo("lamps");
        assertThat(Json.parse(api("GET", "/api/v1/groups", null).body()).findValuesAsText("name")).contains("lamps", GROUP);

        HttpResponse<String> again = api("POST", "/api/v1/groups", "{\"name\":\"lamps\",\"profile\":\"gateway\"}");

        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Json.field(again.body(), "message")).contains("lamps");
        assertThat(Json.field(api("GET", "/api/v1/groups/lamps", null).body(), "profile")).isEqualTo("device");
    }

    @Test
    void a_group_is_changed_one_setting_at_a_time() {
        api("POST", "/api/v1/groups", "{\"name\":\"gates\",\"profile\":\"device\"}");
        TestPki.Ca maker = TestPki.ca("Gate Maker Root");

        JsonNode profile = Json.parse(patch("gates", "{\"profile\":\"gateway\"}").body());
        assertThat(profile.get("profile").asText()).isEqualTo("gateway");
        assertThat(profile.get("requireApproval").asBoolean()).isFalse();

        JsonNode dns = Json.parse(patch("gates", Json.write(Map.of("allowedDnsNames",
                List.of("*.gates.example", "gate-1.example")))).body());
        assertThat(dns.get("allowedDnsNames")).hasSize(2);
        assertThat(dns.get("profile").asText()).isEqualTo("gateway");

        JsonNode cas = Json.parse(patch("gates", Json.write(Map.of("makerCas",
                List.of(Certificates.toPem(List.of(maker.certificate())))))).body());
        assertThat(cas.get("makerCas")).hasSize(1);
        assertThat(cas.get("makerCas").get(0).get("subject").asText()).contains("Gate Maker Root");
        assertThat(cas.get("makerCas").get(0).get("sha256").asText()).hasSize(64);
        assertThat(cas.get("allowedDnsNames")).hasSize(2);

        HttpResponse<String> unknown = api("PATCH", "/api/v1/groups/gates", "{\"profile\":\"toaster\"}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        JsonNode after = Json.parse(api("GET", "/api/v1/groups/gates", null).body());
        assertThat(after.get("profile").asText()).isEqualTo("gateway");
        assertThat(after.get("makerCas")).hasSize(1);
    }

    @Test
    void a_group_with_an_unknown_profile_is_refused_naming_the_configured_profiles() {
        HttpResponse<String> r = api("POST", "/api/v1/groups", "{\"name\":\"toasters\",\"profile\":\"toaster\"}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.field(r.body(), "message")).contains("toaster").contains("device").contains("gateway");
        assertThat(api("GET", "/api/v1/groups/toasters", null).statusCode()).isEqualTo(404);
    }

    @Test
    void a_group_with_an_invalid_name_is_refused() {
        HttpResponse<String> r = api("POST", "/api/v1/groups", "{\"name\":\"no spaces/please\",\"profile\":\"device\"}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.field(r.body(), "message")).contains("group name");
    }

    @Test
    void an_unknown_group_is_404() {
        assertThat(api("GET", "/api/v1/groups/nowhere", null).statusCode()).isEqualTo(404);
        assertThat(api("PATCH", "/api/v1/groups/nowhere", "{\"requireApproval\":true}").statusCode()).isEqualTo(404);
    }

    // ---- registration ------------------------------------------------------------------------

    @Test
    void a_device_is_registered_once_with_a_one_time_token() {
        HttpResponse<String> r = api("POST", "/api/v1/devices", device("meter-0100", GROUP));

        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode reg = Json.parse(r.body());
        assertThat(reg.get("deviceId").asText()).isEqualTo("meter-0100");
        assertThat(reg.get("group").asText()).isEqualTo(GROUP);
        assertThat(reg.get("enrollmentToken").asText()).hasSizeGreaterThanOrEqualTo(24);
        assertThat(reg.get("tokenExpiresAt")).isNotNull();

        HttpResponse<String> again = api("POST", "/api/v1/devices", device("meter-0100", GROUP));

        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Json.field(again.body(), "message")).contains("meter-0100");
    }

    @Test
    void a_device_with_an_invalid_id_is_refused() {
        for (String id : List.of("has space", "slash/id", "", "x".repeat(65), "caf\u00e9")) {
            HttpResponse<String> r = api("POST", "/api/v1/devices", device(id, GROUP));

            assertThat(r.statusCode()).as("device id '%s'", id).isEqualTo(400);
            assertThat(Json.field(r.body(), "message")).contains("1 to 64 characters");
        }
    }

    @Test
    void a_device_without_id_or_group_is_refused() {
        assertThat(api("POST", "/api/v1/devices", "{\"group\":\"" + GROUP + "\"}").statusCode()).isEqualTo(400);
        assertThat(api("POST", "/api/v1/devices", "{\"deviceId\":\"meter-0101\"}").statusCode()).isEqualTo(400);
    }

    @Test
    void a_device_in_an_unknown_group_is_refused_with_404() {
        HttpResponse<String> r = api("POST", "/api/v1/devices", device("meter-0102", "nowhere"));

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(Json.field(r.body(), "message")).contains("nowhere");
        assertThat(api("GET", "/api/v1/devices/meter-0102", null).statusCode()).isEqualTo(404);
    }

    @Test
    void bulk_registration_of_250_devices_returns_250_distinct_tokens() {
        api("POST", "/api/v1/groups", "{\"name\":\"bulk\",\"profile\":\"device\"}");
        List<String> ids = ids("bulk-", 250);

        HttpResponse<String> r = api("POST", "/api/v1/devices/bulk", bulk("bulk", ids));

        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode answer = Json.parse(r.body());
        assertThat(answer.get("registered").asInt()).isEqualTo(250);
        List<String> answeredIds = new ArrayList<>();
        Set<String> tokens = new HashSet<>();
        answer.get("devices").forEach(d -> {
            answeredIds.add(d.get("deviceId").asText());
            tokens.add(d.get("enrollmentToken").asText());
            assertThat(d.get("group").asText()).isEqualTo("bulk");
        });
        assertThat(answeredIds).containsExactlyElementsOf(ids);
        assertThat(tokens).hasSize(250).doesNotContain("");
        assertThat(total("group=bulk")).isEqualTo(250);
    }

    static Stream<Arguments> spoiledBatches() {
        return Stream.of(
                Arguments.of("an id twice", List.of("spoil-1", "spoil-2", "spoil-1"), 400, "appears twice"),
                Arguments.of("an invalid id", List.of("spoil-3", "spoil 4", "spoil-5"), 400, "spoil 4"),
                Arguments.of("an already registered id", List.of("spoil-6", "spoiled-existing", "spoil-7"), 409,
                        "spoiled-existing"));
    }

    @ParameterizedTest(name = "a batch with {0}")
    @MethodSource("spoiledBatches")
    void bulk_registration_is_all_or_nothing(String why, List<String> ids, int status, String named) {
        if (api("GET", "/api/v1/devices/spoiled-existing", null).statusCode() == 404) {
            server.registerDevice("spoiled-existing", GROUP);
        }
        long before = total("");

        HttpResponse<String> r = api("POST", "/api/v1/devices/bulk", bulk(GROUP, ids));

        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(Json.field(r.body(), "message")).contains(named);
        assertThat(total("")).isEqualTo(before);
        assertThat(total("idPrefix=spoil-")).isZero();
    }

    @Test
    void bulk_registration_is_refused_when_empty_too_large_or_for_an_unknown_group() {
        assertThat(api("POST", "/api/v1/devices/bulk", bulk(GROUP, List.of())).statusCode()).isEqualTo(400);
        assertThat(api("POST", "/api/v1/devices/bulk", bulk("nowhere", List.of("lost-1"))).statusCode()).isEqualTo(404);
        HttpResponse<String> tooMany = api("POST", "/api/v1/devices/bulk", bulk(GROUP, ids("many-", 10_001)));
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(Json.field(tooMany.body(), "message")).contains("10000");
        assertThat(total("idPrefix=many-")).isZero();
    }

    // ---- listing -----------------------------------------------------------------------------

    @Test
    void devices_are_listed_a_page_at_a_time_and_filtered() {
        api("POST", "/api/v1/groups", "{\"name\":\"paged\",\"profile\":\"device\"}");
        List<String> ids = ids("paged-", 250);
        assertThat(api("POST", "/api/v1/devices/bulk", bulk("paged", ids)).statusCode()).isEqualTo(201);

        List<String> seen = new ArrayList<>();
        for (int page = 0; page < 3; page++) {
            JsonNode p = list("group=paged&size=100&page=" + page);
            assertThat(p.get("page").asInt()).isEqualTo(page);
            assertThat(p.get("size").asInt()).isEqualTo(100);
            assertThat(p.get("total").asLong()).isEqualTo(250);
            assertThat(p.get("items")).hasSize(page < 2 ? 100 : 50);
            p.get("items").forEach(d -> seen.add(d.get("deviceId").asText()));
        }
        assertThat(seen).containsExactlyElementsOf(ids);
        assertThat(list("group=paged&size=100&page=3").get("items")).isEmpty();
        assertThat(list("size=100").get("total").asLong()).isGreaterThanOrEqualTo(250);
        assertThat(list("").get("size").asInt()).as("default page size").isEqualTo(100);

        JsonNode registered = list("group=paged&status=REGISTERED&size=1000");
        assertThat(registered.get("total").asLong()).isEqualTo(250);
        registered.get("items").forEach(d -> assertThat(d.get("status").asText()).isEqualTo("REGISTERED"));
        assertThat(total("group=paged&status=registered")).isEqualTo(250);
        assertThat(total("group=paged&status=ENROLLED")).isZero();

        JsonNode prefixed = list("idPrefix=paged-01&size=1000");
        assertThat(prefixed.get("total").asLong()).isEqualTo(100);
        prefixed.get("items").forEach(d -> assertThat(d.get("deviceId").asText()).startsWith("paged-01"));
        assertThat(total("idPrefix=paged_")).as("'_' is not a wildcard").isZero();
        assertThat(total("idPrefix=paged%25")).as("'%' is not a wildcard").isZero();
        assertThat(total("group=paged&idPrefix=paged-024")).isEqualTo(10);
    }

    @Test
    void listing_with_a_bad_filter_or_page_is_refused_with_400() {
        HttpResponse<String> status = api("GET", "/api/v1/devices?status=SLEEPING", null);
        assertThat(status.statusCode()).isEqualTo(400);
        assertThat(Json.field(status.body(), "message")).contains("REGISTERED").contains("ENROLLED");
        assertThat(api("GET", "/api/v1/devices?page=-1", null).statusCode()).isEqualTo(400);
        assertThat(api("GET", "/api/v1/devices?size=0", null).statusCode()).isEqualTo(400);
        assertThat(api("GET", "/api/v1/devices?size=1001", null).statusCode()).isEqualTo(400);
        assertThat(api("GET", "/api/v1/devices?size=lots", null).statusCode()).isEqualTo(400);
    }

    // ---- device detail -----------------------------------------------------------------------

    @Test
    void device_detail_shows_status_and_certificate_history_after_enrollment() {
        String token = server.registerDevice("meter-0200", GROUP);
        JsonNode fresh = Json.parse(api("GET", "/api/v1/devices/meter-0200", null).body());
        assertThat(fresh.get("status").asText()).isEqualTo("REGISTERED");
        assertThat(fresh.get("certificates")).isEmpty();

        X509Certificate issued = TestServer.issuedCertificate(server.est(https, "simpleenroll",
                TestPki.csr("meter-0200", TestPki.p256()), "meter-0200", token));

        HttpResponse<String> r = api("GET", "/api/v1/devices/meter-0200", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode detail = Json.parse(r.body());
        assertThat(detail.get("deviceId").asText()).isEqualTo("meter-0200");
        assertThat(detail.get("group").asText()).isEqualTo(GROUP);
        assertThat(detail.get("status").asText()).isEqualTo("ENROLLED");
        assertThat(detail.get("certificates")).hasSize(1);
        JsonNode cert = detail.get("certificates").get(0);
        assertThat(cert.get("serial").asText()).isEqualToIgnoringCase(issued.getSerialNumber().toString(16));
        assertThat(cert.get("status").asText()).isEqualTo("GOOD");
        assertThat(cert.get("profile").asText()).isEqualTo("device");
        assertThat(cert.get("subject").asText()).contains("meter-0200");
        assertThat(detail.get("events").findValuesAsText("action")).contains("device.registered", "certificate.issued");
    }

    @Test
    void an_unknown_device_is_404_everywhere() {
        for (String[] call : new String[][]{{"GET", ""}, {"POST", "/approve"}, {"POST", "/enrollment-token"}}) {
            HttpResponse<String> r = api(call[0], "/api/v1/devices/ghost-1" + call[1], null);

            assertThat(r.statusCode()).as(call[0] + " " + call[1]).isEqualTo(404);
            assertThat(Json.field(r.body(), "message")).contains("ghost-1");
        }
    }

    // ---- approval ----------------------------------------------------------------------------

    @Test
    void enrollment_in_a_group_requiring_approval_waits_until_the_key_is_approved() {
        api("POST", "/api/v1/groups", "{\"name\":\"vaults\",\"profile\":\"device\"}");
        HttpResponse<String> patched = api("PATCH", "/api/v1/groups/vaults", "{\"requireApproval\":true}");
        assertThat(patched.statusCode()).isEqualTo(200);
        assertThat(Json.parse(patched.body()).get("requireApproval").asBoolean()).isTrue();
        String token = server.registerDevice("vault-1", "vaults");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csr("vault-1", keys);

        HttpResponse<String> waiting = server.est(https, "simpleenroll", csr, "vault-1", token);

        assertThat(waiting.statusCode()).isEqualTo(202);
        assertThat(waiting.headers().firstValue("Retry-After")).hasValueSatisfying(
                v -> assertThat(Long.parseLong(v)).isPositive());
        JsonNode pending = Json.parse(api("GET", "/api/v1/devices/vault-1", null).body());
        assertThat(pending.get("status").asText()).isEqualTo("PENDING_APPROVAL");
        String pendingKey = pending.get("pendingKeySha256").asText();
        assertThat(pendingKey).isNotBlank();
        assertThat(total("group=vaults&status=PENDING_APPROVAL")).isEqualTo(1);

        HttpResponse<String> approved = api("POST", "/api/v1/devices/vault-1/approve", null);
        assertThat(approved.statusCode()).isEqualTo(200);
        assertThat(Json.field(approved.body(), "deviceId")).isEqualTo("vault-1");

        // The approval is for the key that waited, not for any key the token holder sends.
        HttpResponse<String> otherKey = server.est(https, "simpleenroll", TestPki.csr("vault-1", TestPki.p256()),
                "vault-1", token);
        assertThat(otherKey.statusCode()).isEqualTo(202);
        assertThat(Json.field(api("GET", "/api/v1/devices/vault-1", null).body(), "pendingKeySha256"))
                .isNotEqualTo(pendingKey);

        X509Certificate issued = TestServer.issuedCertificate(server.est(https, "simpleenroll", csr, "vault-1", token));

        assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());
        JsonNode enrolled = Json.parse(api("GET", "/api/v1/devices/vault-1", null).body());
        assertThat(enrolled.get("status").asText()).isEqualTo("ENROLLED");
        assertThat(enrolled.get("certificates")).hasSize(1);
        assertThat(enrolled.get("events").findValuesAsText("action"))
                .contains("enrollment.pending", "device.approved", "certificate.issued");
    }

    @Test
    void approving_a_device_that_does_not_wait_is_a_conflict() {
        server.registerDevice("meter-0300", GROUP);

        HttpResponse<String> r = api("POST", "/api/v1/devices/meter-0300/approve", null);

        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(Json.field(r.body(), "message")).contains("not waiting for approval");
    }

    // ---- enrollment tokens -------------------------------------------------------------------

    @Test
    void a_new_enrollment_token_replaces_the_old_one() {
        String old = server.registerDevice("meter-0400", GROUP);

        HttpResponse<String> r = api("POST", "/api/v1/devices/meter-0400/enrollment-token", null);

        assertThat(r.statusCode()).isEqualTo(201);
        String fresh = Json.field(r.body(), "enrollmentToken");
        assertThat(fresh).isNotBlank().isNotEqualTo(old);
        assertThat(Json.field(r.body(), "deviceId")).isEqualTo("meter-0400");
        KeyPair keys = TestPki.p256();
        HttpResponse<String> withOld = server.est(https, "simpleenroll", TestPki.csr("meter-0400", keys),
                "meter-0400", old);
        assertThat(withOld.statusCode()).isEqualTo(401);
        assertThat(withOld.body()).doesNotContain(old).doesNotContain(fresh);
        X509Certificate issued = TestServer.issuedCertificate(server.est(https, "simpleenroll",
                TestPki.csr("meter-0400", keys), "meter-0400", fresh));
        assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());
    }

    // ---- CA, health, OpenAPI -----------------------------------------------------------------

    @Test
    void the_ca_chain_is_served_as_pem_issuing_ca_first() {
        HttpResponse<String> r = api("GET", "/api/v1/ca/chain", null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/pem-certificate-chain"));
        assertThat(r.body()).startsWith("-----BEGIN CERTIFICATE-----");
        List<X509Certificate> chain = Certificates.fromPem(r.body());
        assertThat(chain).hasSize(2).containsExactlyElementsOf(server.caChain());
    }

    @Test
    void health_answers_up_without_a_token() {
        HttpResponse<String> r = send("GET", "/health", null, null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Json.field(r.body(), "status")).isEqualTo("UP");
    }

    @Test
    void the_openapi_document_is_served_without_a_token() {
        HttpResponse<String> r = send("GET", OPENAPI, null, null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("openapi:").contains("/api/v1/devices").contains("/.well-known/est/simpleenroll");
    }

    // ---- bad requests ------------------------------------------------------------------------

    static Stream<Arguments> badRequests() {
        String leafPem = Certificates.toPem(List.of(TestPki.ca("Maker").issue("CN=not-a-ca", TestPki.p256(),
                Duration.ofDays(1))));
        return Stream.of(
                Arguments.of("malformed JSON", "POST", "/api/v1/groups", "application/json", "{\"name\": \"x\",", 400),
                Arguments.of("JSON that is not an object", "POST", "/api/v1/devices", "application/json", "[1,2]", 400),
                Arguments.of("a string where a list belongs", "POST", "/api/v1/devices/bulk", "application/json",
                        "{\"group\":\"" + GROUP + "\",\"deviceIds\":\"a,b\"}", 400),
                Arguments.of("a number where a flag belongs", "PATCH", "/api/v1/groups/" + GROUP, "application/json",
                        "{\"requireApproval\":{\"yes\":1}}", 400),
                Arguments.of("no body", "POST", "/api/v1/groups", "application/json", "", 400),
                Arguments.of("a body of the wrong type", "POST", "/api/v1/groups", "text/plain", "name=x", 415),
                Arguments.of("a maker CA that is not PEM", "PATCH", "/api/v1/groups/" + GROUP, "application/json",
                        Json.write(Map.of("makerCas", List.of("hello"))), 400),
                Arguments.of("a maker CA with a broken PEM block", "PATCH", "/api/v1/groups/" + GROUP,
                        "application/json", Json.write(Map.of("makerCas", List.of(
                                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))), 400),
                Arguments.of("a maker CA whose PEM block holds no certificate", "PATCH", "/api/v1/groups/" + GROUP,
                        "application/json", Json.write(Map.of("makerCas", List.of(
                                "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"))), 400),
                Arguments.of("a maker CA that is a private key", "PATCH", "/api/v1/groups/" + GROUP, "application/json",
                        Json.write(Map.of("makerCas", List.of(privateKeyPem()))), 400),
                Arguments.of("a maker CA that is a leaf", "PATCH", "/api/v1/groups/" + GROUP, "application/json",
                        Json.write(Map.of("makerCas", List.of(leafPem))), 400),
                Arguments.of("a DNS pattern that is not one", "PATCH", "/api/v1/groups/" + GROUP, "application/json",
                        Json.write(Map.of("allowedDnsNames", List.of("*.*.bad..name"))), 400),
                Arguments.of("an unknown operation", "GET", "/api/v1/nothing-here", null, null, 404),
                Arguments.of("an unsupported method", "DELETE", "/api/v1/groups", null, null, 405),
                Arguments.of("a page that is not a number", "GET", "/api/v1/devices?page=first", null, null, 400));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void a_bad_request_gets_a_readable_error_without_java_internals(String why, String method, String path,
                                                                   String contentType, String body, int status) {
        HttpResponse<String> r = send(method, path, "Bearer " + TestServer.ADMIN_TOKEN, contentType, body);

        assertThat(r.statusCode()).isEqualTo(status);
        JsonNode error = Json.parse(r.body());
        assertThat(error.path("error").asText()).isNotBlank();
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(Json.parse(api("GET", "/api/v1/groups/" + GROUP, null).body()).get("makerCas")).isEmpty();
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static HttpResponse<String> api(String method, String path, String json) {
        return send(method, path, "Bearer " + TestServer.ADMIN_TOKEN, json == null ? null : "application/json", json);
    }

    private static HttpResponse<String> send(String method, String path, String authorization, String json) {
        return send(method, path, authorization, json == null ? null : "application/json", json);
    }

    /** Sends a request and checks the answer shows no Java internals, whatever its status. */
    private static HttpResponse<String> send(String method, String path, String authorization, String contentType,
                                             String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(60));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = server.send(https, b.build());
        if (r.statusCode() >= 400) {
            for (Pattern p : JAVA_INTERNALS) {
                assertThat(p.matcher(r.body()).find())
                        .as("%s %s answered %d with Java internals (%s): %s", method, path, r.statusCode(), p, r.body())
                        .isFalse();
            }
        }
        return r;
    }

    private static HttpResponse<String> patch(String group, String json) {
        HttpResponse<String> r = api("PATCH", "/api/v1/groups/" + group, json);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r;
    }

    private static JsonNode list(String query) {
        HttpResponse<String> r = api("GET", "/api/v1/devices" + (query.isEmpty() ? "" : "?" + query), null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parse(r.body());
    }

    private static long total(String query) {
        return list(query).get("total").asLong();
    }

    private static void assertNothingChangedByIntruders() {
        assertThat(api("GET", "/api/v1/groups/intruders", null).statusCode()).isEqualTo(404);
        assertThat(total("idPrefix=intruder")).isZero();
    }

    private static String device(String id, String group) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("deviceId", id);
        body.put("group", group);
        return Json.write(body);
    }

    private static String bulk(String group, List<String> ids) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("group", group);
        body.put("deviceIds", ids);
        return Json.write(body);
    }

    private static String privateKeyPem() {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(TestPki.p256().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    private static List<String> ids(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + String.format("%04d", i)).toList();
    }
}
