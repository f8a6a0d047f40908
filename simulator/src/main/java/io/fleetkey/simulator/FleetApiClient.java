package io.fleetkey.simulator;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The slice of the fleet API a scenario needs to set up devices: create a group and register
 * devices in bulk. Bearer-token authenticated; the token is never printed.
 */
final class FleetApiClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String adminToken;
    private final HttpClient http;

    FleetApiClient(URI server, SSLContext tls, String adminToken) {
        String text = server.toString();
        this.base = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.adminToken = adminToken;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /** A refusal of the fleet API, with its status and message. */
    static final class FleetApiException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        FleetApiException(int status, String message) {
            super(message);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /**
     * Creates the group with the profile.
     *
     * @return true when created, false when a group of that name exists already
     */
    boolean createGroup(String name, String profile) throws FleetApiException, IOException, InterruptedException {
        HttpResponse<String> response = post("/api/v1/groups", Map.of("name", name, "profile", profile),
                Duration.ofSeconds(30));
        if (response.statusCode() == 409) {
            return false;
        }
        check(response, "create group '" + name + "'");
        return true;
    }

    /**
     * Registers devices of one group (all or none) and returns their one-time tokens by device id.
     */
    Map<String, String> registerBulk(String group, List<String> deviceIds)
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

    private HttpResponse<String> post(String path, Object body, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + adminToken)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
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
