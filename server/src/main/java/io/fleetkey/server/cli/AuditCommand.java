package io.fleetkey.server.cli;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code fleetkey audit list|verify}: the server's hash-chained audit log. Entries are shown
 * with every field the server sends, known ones first, so a newer server loses nothing here.
 */
@Command(name = "audit", description = "Read and verify the audit log.")
final class AuditCommand {
    /** Field names a page may give its entries and its next cursor under. */
    private static final List<String> ENTRY_FIELDS = List.of("entries", "items");
    private static final List<String> CURSOR_FIELDS = List.of("next", "nextAfter", "nextCursor", "after");

    static final List<Tables.Column> COLUMNS = List.of(Tables.column("SEQ", "seq"), Tables.column("AT", "at"),
            Tables.column("AT", "occurredAt"), Tables.column("ACTOR", "actor"), Tables.column("ACTION", "action"),
            Tables.column("DEVICE", "deviceId"), Tables.column("DETAIL", "detail"));

    @ParentCommand
    FleetkeyCli root;

    @Command(name = "list", description = "List audit entries in order, a page at a time.")
    int list(@Option(names = "--after", paramLabel = "SEQ", description = "entries after this sequence number "
                     + "(the cursor a page ends with)") Long after,
             @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                     description = "entries per page (default: ${DEFAULT-VALUE})") int limit,
             @Option(names = "--device", paramLabel = "ID", description = "entries about this device") String device,
             @Option(names = "--action", paramLabel = "A", description = "entries of this action, "
                     + "e.g. device.revoked") String action) {
        JsonNode page = root.api().get("/audit" + ApiClient.query(ApiClient.parameters("after", after,
                "limit", limit, "deviceId", device, "action", action)));
        if (root.json) {
            root.out.println(page);
            return FleetkeyCli.OK;
        }
        root.out.print(renderPage(page));
        return FleetkeyCli.OK;
    }

    static String renderPage(JsonNode page) {
        JsonNode entries = entries(page);
        StringBuilder out = new StringBuilder();
        if (entries.isEmpty()) {
            out.append("no audit entries\n");
        } else {
            // Only the columns the entries use: a server calls the time "at" or "occurredAt", not both.
            List<Tables.Column> columns = COLUMNS.stream().filter(c -> has(entries, c.field())).toList();
            out.append(Tables.table(entries, columns));
        }
        String cursor = cursor(page);
        Set<String> shown = new java.util.HashSet<>(ENTRY_FIELDS);
        shown.addAll(CURSOR_FIELDS);
        out.append(Tables.details(without(page, shown, true), Map.of(), Set.of()));
        if (cursor != null) {
            out.append("more: --after ").append(cursor).append('\n');
        }
        return out.toString();
    }

    private static JsonNode entries(JsonNode page) {
        if (page.isArray()) {
            return page;
        }
        for (String field : ENTRY_FIELDS) {
            if (page.path(field).isArray()) {
                return page.get(field);
            }
        }
        for (JsonNode value : page) {
            if (value.isArray()) {
                return value;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static String cursor(JsonNode page) {
        for (String field : CURSOR_FIELDS) {
            JsonNode value = page.path(field);
            if (value.isValueNode() && !value.isNull()) {
                return value.asText();
            }
        }
        return null;
    }

    private static boolean has(JsonNode entries, String field) {
        for (JsonNode e : entries) {
            if (e.has(field)) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode without(JsonNode object, Set<String> fields, boolean dropArrays) {
        JsonNode copy = object.deepCopy();
        if (copy instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (fields.contains(name) || (dropArrays && o.get(name).isArray())) {
                    it.remove();
                }
            }
            return o;
        }
        return ApiClient.JSON.createObjectNode();
    }

    @Command(name = "verify", description = "Check the audit log's hash chain on the server; exit status "
            + FleetkeyCli.AUDIT_BROKEN + " when it is broken.")
    int verify() {
        JsonNode answer = root.api().post("/audit/verify", null);
        boolean ok = answer.path("ok").asBoolean(false);
        if (root.json) {
            root.out.println(answer);
        } else {
            root.out.print(renderVerification(answer));
        }
        return ok ? FleetkeyCli.OK : FleetkeyCli.AUDIT_BROKEN;
    }

    static String renderVerification(JsonNode answer) {
        JsonNode head = answer.path("head");
        if (answer.path("ok").asBoolean(false)) {
            StringBuilder out = new StringBuilder("the audit log is intact: " + answer.path("entries").asText("?")
                    + " entries");
            if (head.isObject()) {
                out.append("; head seq ").append(head.path("seq").asText("?")).append(", hash ")
                        .append(head.path("hash").asText("?"));
            }
            out.append('\n');
            out.append(Tables.details(without(answer, Set.of("ok", "entries", "head"), false), Map.of(), Set.of()));
            return out.toString();
        }
        Map<String, String> none = new LinkedHashMap<>();
        return "the audit log is BROKEN: the chain does not hold; what the server found:\n"
                + Tables.details(without(answer, Set.of("ok"), false), none, Set.of()).indent(2);
    }
}
