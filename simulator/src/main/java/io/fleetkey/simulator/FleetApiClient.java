package io.fleetkey.simulator;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The slice of the fleet API the simulator's tools need: create, show and change a group,
 * register devices in bulk and list them. Bearer-token authenticated; the token is never
 * printed. Thread-safe.
 */
public final class FleetApiClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String adminToken;
    private final HttpClient http;

    /** The fleet API takes at most this many devices per bulk registration. */
    public static final int MAX_BULK = 10_000;
    /** Larger pages are refused by the fleet API. */
    static final int MAX_PAGE_SIZE = 1000;

    public FleetApiClient(URI server, SSLContext tls, String adminToken) {
        String text = server.toString();
        this.base = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.adminToken = adminToken;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /** A refusal of the fleet API, with its status and message. */
    public static final class FleetApiException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        FleetApiException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** The HTTP status of the refusal. */
        public int status() {
            return status;
        }
    }

    /**
     * Creates the group with the profile.
     *
     * @return true when created, false when a group of that name exists already
     */
    public boolean createGroup(String name, String profile) throws FleetApiException, IOException, InterruptedException {
        return createGroup(name, profile, List.of());
    }

    /**
     * Creates the group with the profile and the maker CAs that its devices' factory
     * identities (IDevIDs) chain to.
     *
     * @param makerCas PEM texts of CA certificates; empty for none
     * @return true when created, false when a group of that name exists already (it is left as it is)
     */
    public boolean createGroup(String name, String profile, List<String> makerCas)
            throws FleetApiException, IOException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("profile", profile);
        if (!makerCas.isEmpty()) {
            body.put("makerCas", makerCas);
        }
        HttpResponse<String> response = post("/api/v1/groups", body, Duration.ofSeconds(30));
        if (response.statusCode() == 409) {
            return false;
        }
        check(response, "create group '" + name + "'");
        return true;
    }

    /**
     * Registers devices of one group (all or none) and returns their one-time tokens by device id.
     */
    public Map<String, String> registerBulk(String group, List<String> deviceIds)
            throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = post("/api/v1/devices/bulk", Map.of("group", group, "deviceIds", deviceIds),
                Duration.ofMinutes(5));
        check(response, "register " + deviceIds.size() + " devices");
        JsonNode devices = JSON.readTree(response.body()).path("devices");
        Map<String, String> tokens = new HashMap<>(deviceIds.size() * 2);
        for (JsonNode device : devices) {
            tokens.put(device.path("deviceId").asText(), device.path("enrollmentToken").asText());
        }
        if (tokens.size() != deviceIds.size()) {
            throw new FleetApiException(response.statusCode(), "registered " + tokens.size() + " of "
                    + deviceIds.size() + " devices; the answer does not list every device");
        }
        return tokens;
    }

    /**
     * Issues a new one-time enrollment token for a registered device (what a fleet manager does
     * for a device that was reset and lost its key); the previous token stops working.
     */
    public String newEnrollmentToken(String deviceId) throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = post("/api/v1/devices/" + pathSegment(deviceId) + "/enrollment-token",
                Map.of(), Duration.ofSeconds(30));
        check(response, "issue a new enrollment token for device " + deviceId);
        return JSON.readTree(response.body()).path("enrollmentToken").asText();
    }

    /**
     * Revokes these registered devices and all their certificates in one transaction (the fleet
     * API's revoke by list), with an RFC 5280 reason such as {@code keyCompromise}.
     *
     * @return how many devices the call revoked (devices already revoked are not counted)
     */
    public int revokeDevices(List<String> deviceIds, String reason, String note)
            throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = post("/api/v1/revocations", Map.of("filter", Map.of("deviceIds", deviceIds),
                "reason", reason, "note", note), Duration.ofMinutes(5));
        check(response, "revoke " + deviceIds.size() + " devices");
        return JSON.readTree(response.body()).path("revoked").asInt();
    }

    /** A maker CA as the fleet API shows it: it does not give the certificate back, only this. */
    public record MakerCaSummary(String subject, String sha256, String notAfter) {
    }

    /** A maker CRL as the fleet API shows it; times as the API writes them (ISO-8601). */
    public record MakerCrlSummary(String issuer, String thisUpdate, String nextUpdate, int revoked) {
    }

    /**
     * What a group trusts for factory identities.
     *
     * @param makerCrls null when the server does not show maker CRLs (a server without them)
     */
    public record GroupTrust(List<MakerCaSummary> makerCas, List<MakerCrlSummary> makerCrls) {
    }

    /**
     * The maker CAs and maker CRLs of the group, as summaries.
     *
     * @throws FleetApiException with status 404 when there is no such group
     */
    public GroupTrust groupTrust(String name) throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = send(request("/api/v1/groups/" + pathSegment(name), Duration.ofSeconds(30))
                .GET().build());
        check(response, "show group '" + name + "'");
        JsonNode group = JSON.readTree(response.body());
        List<MakerCaSummary> cas = new ArrayList<>();
        for (JsonNode ca : group.path("makerCas")) {
            cas.add(new MakerCaSummary(ca.path("subject").asText(), ca.path("sha256").asText(), ca.path("notAfter").asText()));
        }
        List<MakerCrlSummary> crls = null;
        if (group.has("makerCrls")) {
            crls = new ArrayList<>();
            for (JsonNode crl : group.path("makerCrls")) {
                crls.add(new MakerCrlSummary(crl.path("issuer").asText(), crl.path("thisUpdate").asText(),
                        crl.path("nextUpdate").asText(null), crl.path("revoked").asInt()));
            }
        }
        return new GroupTrust(cas, crls);
    }

    /**
     * Changes the group: PATCH with the given fields; fields left out stay as they are, a list
     * given replaces the group's list.
     */
    public void updateGroup(String name, Map<String, ?> fields) throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = send(request("/api/v1/groups/" + pathSegment(name), Duration.ofSeconds(30))
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(fields))).build());
        check(response, "change group '" + name + "' (" + String.join(", ", fields.keySet()) + ")");
    }

    /** The ids of the group's devices that start with the prefix, read a page at a time. */
    public Set<String> deviceIds(String group, String idPrefix) throws FleetApiException, IOException, InterruptedException {
        Set<String> ids = new HashSet<>();
        for (int page = 0; ; page++) {
            String query = "group=" + queryValue(group) + (idPrefix.isEmpty() ? "" : "&idPrefix=" + queryValue(idPrefix))
                    + "&page=" + page + "&size=" + MAX_PAGE_SIZE;
            HttpResponse<String> response = send(request("/api/v1/devices?" + query, Duration.ofMinutes(1)).GET().build());
            check(response, "list the devices of group '" + group + "'");
            JsonNode items = JSON.readTree(response.body()).path("items");
            for (JsonNode item : items) {
                ids.add(item.path("deviceId").asText());
            }
            if (items.size() < MAX_PAGE_SIZE) {
                return ids;
            }
        }
    }

    /** Whether the server reports itself up on every door it has ({@code GET /health} answers 200). */
    public boolean healthy() throws InterruptedException {
        try {
            return send(request("/health", Duration.ofSeconds(5)).GET().build()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private HttpResponse<String> post(String path, Object body, Duration timeout) throws IOException, InterruptedException {
        return send(request(path, timeout).POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .build());
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + adminToken)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json");
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String pathSegment(String text) {
        return queryValue(text).replace("+", "%20");
    }

    private static String queryValue(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static void check(HttpResponse<String> response, String what) throws FleetApiException {
        int status = response.statusCode();
        if (status / 100 == 2) {
            return;
        }
        String message;
        try {
            message = JSON.readTree(response.body()).path("message").asText("");
        } catch (IOException e) {
            message = "";
        }
        if (message.isBlank()) {
            message = "HTTP " + status;
        }
        if (status == 401) {
            throw new FleetApiException(status, "the fleet API did not accept the admin token (" + message
                    + "); check --admin-token or FLEETKEY_ADMIN_TOKEN");
        }
        throw new FleetApiException(status, "cannot " + what + ": HTTP " + status + ": " + message);
    }
}
