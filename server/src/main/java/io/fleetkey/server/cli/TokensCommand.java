package io.fleetkey.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code fleetkey tokens new}: a new one-time enrollment token for a device. */
@Command(name = "tokens", description = "One-time enrollment tokens.")
final class TokensCommand {
    @ParentCommand
    FleetkeyCli root;

    @Command(name = "new", description = "Issue a new one-time enrollment token for a device (shown only this "
            + "once); the previous one stops working.")
    int newToken(@Parameters(paramLabel = "DEVICE_ID") String deviceId) {
        JsonNode answer = root.api().post("/devices/" + ApiClient.segment(deviceId) + "/enrollment-token", null);
        if (root.json) {
            root.out.println(answer);
            return FleetkeyCli.OK;
        }
        root.out.println("new enrollment token for " + answer.path("deviceId").asText(deviceId)
                + "; the previous one no longer works");
        root.out.print(renderToken(answer));
        return FleetkeyCli.OK;
    }

    /** The token lines of a registration answer. */
    static String renderToken(JsonNode registration) {
        return "enrollment token: " + registration.path("enrollmentToken").asText() + "\n"
                + "expires:          " + Tables.text(registration.path("tokenExpiresAt")) + "\n"
                + "(shown only this once: hand it to the device now)\n";
    }
}
