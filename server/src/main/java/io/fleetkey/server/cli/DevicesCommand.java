package io.fleetkey.server.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetkey.server.util.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code fleetkey devices ...}: register, import, list, show, approve, revoke, revoke-by. */
@Command(name = "devices", description = "Register, list, show, approve and revoke devices.",
        subcommands = RevokeByCommand.class)
final class DevicesCommand {
    /** The server's limit for one bulk registration ({@code POST /devices/bulk}). */
    static final int MAX_BULK = 10_000;
    /** The server's largest page of a device listing. */
    private static final int MAX_PAGE = 1000;

    static final List<Tables.Column> COLUMNS = List.of(Tables.column("DEVICE", "deviceId"),
            Tables.column("GROUP", "group"), Tables.column("STATUS", "status"),
            Tables.column("ATTESTATION", "attestation"), Tables.column("ATTESTED", "attestedAt"),
            Tables.column("CREATED", "createdAt"), Tables.column("UPDATED", "updatedAt"));

    @ParentCommand
    FleetkeyCli root;

    // ---- register and import ---------------------------------------------------------------

    @Command(name = "register", description = "Register one device; prints its one-time enrollment token (shown "
            + "only this once).")
    int register(@Parameters(paramLabel = "ID", description = "the device id") String deviceId,
                 @Option(names = "--group", required = true, paramLabel = "G") String group) {
        JsonNode registered = root.api().post("/devices", Map.of("deviceId", deviceId, "group", group));
        if (root.json) {
            root.out.println(registered);
            return FleetkeyCli.OK;
        }
        root.out.println("registered " + registered.path("deviceId").asText(deviceId) + " in group "
                + registered.path("group").asText(group));
        root.out.print(TokensCommand.renderToken(registered));
        return FleetkeyCli.OK;
    }

    @Command(name = "import", description = {"Register the devices of a CSV file (a header line with a deviceId "
            + "column and optionally a group column), " + MAX_BULK + " at a time, each request all or none.",
        "The file is checked before anything is sent. The one-time tokens go to --tokens-out (created 0600), "
                + "never to the terminal unless --show-tokens."})
    int importCsv(@Parameters(paramLabel = "FILE.csv") Path file,
                  @Option(names = "--group", paramLabel = "G",
                          description = "the group of rows without a group column value") String group,
                  @Option(names = "--tokens-out", paramLabel = "FILE",
                          description = "new CSV file (mode 0600) for deviceId,group,enrollmentToken,tokenExpiresAt")
                  Path tokensOut,
                  @Option(names = "--show-tokens", description = "print the tokens on the terminal too")
                  boolean showTokens,
                  @Option(names = "--chunk-size", paramLabel = "N", defaultValue = "" + MAX_BULK,
                          description = "devices per request, 1 to " + MAX_BULK + " (default: ${DEFAULT-VALUE})")
                  int chunkSize) {
        if (tokensOut == null && !showTokens) {
            throw new CliFailure(FleetkeyCli.USAGE, "say where the one-time enrollment tokens go: --tokens-out "
                    + "FILE (a new file, mode 0600), or --show-tokens to print them");
        }
        if (tokensOut != null && Files.exists(tokensOut)) {
            throw new CliFailure(FleetkeyCli.USAGE, "--tokens-out " + tokensOut + " exists already; choose a new "
                    + "file (the tokens it holds may still be needed)");
        }
        if (chunkSize < 1 || chunkSize > MAX_BULK) {
            throw new CliFailure(FleetkeyCli.USAGE, "--chunk-size must be 1 to " + MAX_BULK);
        }
        List<DeviceCsv.Row> rows = DeviceCsv.read(file, group);
        Map<String, List<DeviceCsv.Row>> byGroup = new LinkedHashMap<>();
        rows.forEach(r -> byGroup.computeIfAbsent(r.group(), g -> new ArrayList<>()).add(r));
        for (String g : byGroup.keySet()) {
            root.api().get("/groups/" + ApiClient.segment(g)); // an unknown group stops the import before it starts
        }

        StringBuilder tokens = new StringBuilder("deviceId,group,enrollmentToken,tokenExpiresAt\n");
        writeTokens(tokensOut, tokens);
        ArrayNode registered = ApiClient.JSON.createArrayNode();
        for (var entry : byGroup.entrySet()) {
            List<DeviceCsv.Row> groupRows = entry.getValue();
            for (int from = 0; from < groupRows.size(); from += chunkSize) {
                List<DeviceCsv.Row> chunk = groupRows.subList(from, Math.min(from + chunkSize, groupRows.size()));
                var answer = root.api().call("POST", "/devices/bulk", Map.of("group", entry.getKey(),
                        "deviceIds", chunk.stream().map(DeviceCsv.Row::deviceId).toList()));
                if (!answer.ok()) {
                    if (showTokens && !registered.isEmpty()) {
                        root.out.print(tokenTable(registered)); // registered before the refusal: shown, not lost
                    }
                    CliFailure refused = root.api().refused(answer);
                    throw new CliFailure(refused.exitCode(), "lines " + chunk.get(0).line() + "-"
                            + chunk.get(chunk.size() - 1).line() + " (" + chunk.size() + " devices of group "
                            + entry.getKey() + ") were refused, none of them registered: " + refused.getMessage()
                            + (registered.isEmpty() ? "" : "; the " + registered.size() + " devices before them were "
                            + "registered" + (tokensOut == null ? "" : ", their tokens are in " + tokensOut)));
                }
                for (JsonNode device : answer.json().path("devices")) {
                    registered.add(device);
                    tokens.append(String.join(",", device.path("deviceId").asText(), device.path("group").asText(),
                            device.path("enrollmentToken").asText(), device.path("tokenExpiresAt").asText()))
                            .append('\n');
                }
                writeTokens(tokensOut, tokens);
            }
        }

        if (root.json) {
            ObjectNode summary = ApiClient.JSON.createObjectNode();
            summary.put("registered", registered.size());
            ArrayNode devices = summary.putArray("devices");
            registered.forEach(d -> devices.add(showTokens ? d : ((ObjectNode) d.deepCopy()).without("enrollmentToken")));
            root.out.println(summary);
            return FleetkeyCli.OK;
        }
        root.out.println("registered " + registered.size() + " device(s) in " + byGroup.size() + " group(s): "
                + String.join(", ", byGroup.keySet()));
        if (tokensOut != null) {
            root.out.println("one-time enrollment tokens written to " + tokensOut + " (mode 0600); hand each to its "
                    + "device and delete the file");
        }
        if (showTokens) {
            root.out.print(tokenTable(registered));
        }
        return FleetkeyCli.OK;
    }

    private static String tokenTable(JsonNode registered) {
        return Tables.table(registered, List.of(Tables.column("DEVICE", "deviceId"), Tables.column("GROUP", "group"),
                Tables.column("TOKEN", "enrollmentToken"), Tables.column("EXPIRES", "tokenExpiresAt")));
    }

    /** The whole tokens file again, atomically and 0600: after each chunk, what is registered is on disk. */
    private static void writeTokens(Path tokensOut, StringBuilder content) {
        if (tokensOut == null) {
            return;
        }
        try {
            AtomicFiles.write(tokensOut, content.toString().getBytes(StandardCharsets.UTF_8), "rw-------");
        } catch (IOException e) {
            throw new CliFailure(FleetkeyCli.USAGE, "--tokens-out " + tokensOut + ": cannot write it (" + e + ")", e);
        }
    }

    // ---- list and show ---------------------------------------------------------------------

    @Command(name = "list", description = "List devices, a page at a time or --all.")
    int list(@Option(names = "--group", paramLabel = "G") String group,
             @Option(names = "--status", paramLabel = "S",
                     description = "REGISTERED, PENDING_APPROVAL, ENROLLED or REVOKED") String status,
             @Option(names = "--attestation", paramLabel = "A",
                     description = "current attestation result: affirming, warning or contraindicated")
             String attestation,
             @Option(names = "--id-prefix", paramLabel = "P", description = "device ids starting with P") String prefix,
             @Option(names = "--page", paramLabel = "N", defaultValue = "0",
                     description = "page number, from 0 (default: ${DEFAULT-VALUE})") int page,
             @Option(names = "--size", paramLabel = "N", defaultValue = "100",
                     description = "devices per page, 1 to " + MAX_PAGE + " (default: ${DEFAULT-VALUE})") int size,
             @Option(names = "--all", description = "every matching device, fetched page by page") boolean all) {
        String filter = "/devices" + ApiClient.query(ApiClient.parameters("group", group, "status", status,
                "idPrefix", prefix, "attestation", attestation));
        String join = filter.contains("?") ? "&" : "?";
        JsonNode answer;
        if (all) {
            ArrayNode items = ApiClient.JSON.createArrayNode();
            long total;
            int p = 0;
            do {
                JsonNode onePage = root.api().get(filter + join + "page=" + p++ + "&size=" + MAX_PAGE);
                onePage.path("items").forEach(items::add);
                total = onePage.path("total").asLong();
                if (onePage.path("items").isEmpty()) {
                    break;
                }
            } while (items.size() < total);
            ObjectNode merged = ApiClient.JSON.createObjectNode();
            merged.set("items", items);
            merged.put("page", 0);
            merged.put("size", items.size());
            merged.put("total", total);
            answer = merged;
        } else {
            answer = root.api().get(filter + join + "page=" + page + "&size=" + size);
        }
        if (root.json) {
            root.out.println(answer);
            return FleetkeyCli.OK;
        }
        root.out.print(renderList(answer, all));
        return FleetkeyCli.OK;
    }

    static String renderList(JsonNode page, boolean all) {
        JsonNode items = page.path("items");
        long total = page.path("total").asLong();
        if (items.isEmpty()) {
            return total > 0 ? "no devices on this page (" + total + " match; pages start at 0)\n"
                    : "no devices match\n";
        }
        StringBuilder out = new StringBuilder(Tables.table(items, COLUMNS));
        int size = page.path("size").asInt(items.size());
        int number = page.path("page").asInt();
        long first = (long) number * size + 1;
        long last = first + items.size() - 1;
        if (all || (first == 1 && last >= total)) {
            out.append(items.size()).append(" device(s)\n");
        } else {
            out.append("devices ").append(first).append('-').append(last).append(" of ").append(total);
            out.append(last < total ? "; next: --page " + (number + 1) + ", or --all\n" : "\n");
        }
        return out.toString();
    }

    @Command(name = "show", description = "Show a device: status, certificates, recent events.")
    int show(@Parameters(paramLabel = "ID") String deviceId) {
        JsonNode device = root.api().get("/devices/" + ApiClient.segment(deviceId));
        if (root.json) {
            root.out.println(device);
            return FleetkeyCli.OK;
        }
        root.out.print(renderDevice(device));
        return FleetkeyCli.OK;
    }

    static String renderDevice(JsonNode device) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("deviceId", "device");
        labels.put("group", "group");
        labels.put("status", "status");
        labels.put("attestation", "attestation");
        labels.put("attestedAt", "attested");
        labels.put("pendingKeySha256", "key waiting for approval");
        labels.put("approvedKeySha256", "approved key");
        labels.put("createdAt", "created");
        labels.put("updatedAt", "updated");
        StringBuilder out = new StringBuilder(Tables.details(device, labels, Set.of("certificates", "events")));
        GroupsCommand.section(out, "certificates (newest first)", device.path("certificates"), List.of(
                Tables.column("SERIAL", "serial"), Tables.column("STATUS", "status"),
                Tables.column("PROFILE", "profile"), Tables.column("NOT BEFORE", "notBefore"),
                Tables.column("NOT AFTER", "notAfter"), Tables.column("REVOKED", "revokedAt"),
                Tables.column("REASON", "revocationReason"), Tables.column("SUBJECT", "subject"),
                Tables.column("ISSUED", "issuedAt")));
        GroupsCommand.section(out, "recent events", device.path("events"), List.of(Tables.column("AT", "at"),
                Tables.column("ACTION", "action"), Tables.column("ACTOR", "actor"), Tables.column("DETAIL", "detail")));
        return out.toString();
    }

    // ---- approve and revoke ----------------------------------------------------------------

    @Command(name = "approve", description = "Approve the key a device waits with (groups that require approval, "
            + "or an attestation warning the group holds).")
    int approve(@Parameters(paramLabel = "ID") String deviceId) {
        JsonNode device = root.api().post("/devices/" + ApiClient.segment(deviceId) + "/approve", null);
        if (root.json) {
            root.out.println(device);
            return FleetkeyCli.OK;
        }
        root.out.println("approved the waiting key of " + device.path("deviceId").asText(deviceId)
                + "; the device gets its certificate when it asks again (status " + device.path("status").asText()
                + ")");
        return FleetkeyCli.OK;
    }

    @Command(name = "revoke", description = "Revoke a device and all its certificates, for good.")
    int revoke(@Parameters(paramLabel = "ID") String deviceId,
               @Option(names = "--reason", required = true, paramLabel = "R", description = "RFC 5280 reason: "
                       + "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation or "
                       + "privilegeWithdrawn") String reason,
               @Option(names = "--note", paramLabel = "N", description = "free text for the audit log, up to 500 "
                       + "characters") String note) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("reason", reason);
        if (note != null) {
            body.put("note", note);
        }
        JsonNode revoked = root.api().post("/devices/" + ApiClient.segment(deviceId) + "/revoke", body);
        if (root.json) {
            root.out.println(revoked);
            return FleetkeyCli.OK;
        }
        JsonNode serials = revoked.path("revokedSerials");
        root.out.println("revoked " + revoked.path("deviceId").asText(deviceId) + " (" + revoked.path("reason").asText()
                + ") at " + Tables.text(revoked.path("revokedAt")) + "; " + serials.size() + " certificate(s) revoked"
                + (serials.isEmpty() ? "" : ": " + Tables.text(serials)));
        return FleetkeyCli.OK;
    }
}
