package io.fleetkey.server.cli;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
            Tables.column("DEVICE", "deviceId"), Tables.column("SUBJECT", "subject"),
            Tables.column("OUTCOME", "outcome"), Tables.column("HASH", "hash"), Tables.column("DETAIL", "detail"));
    /** Hex digits of an entry's hash in the table; --json has all of them. */
    private static final int SHORT_HASH = 12;
    private static final Pattern ANCHOR = Pattern.compile("(\\d+):([0-9a-fA-F]{64})");

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
            out.append(Tables.table(shortHashes(entries), columns));
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

    private static JsonNode shortHashes(JsonNode entries) {
        JsonNode copy = entries.deepCopy();
        for (JsonNode entry : copy) {
            String hash = entry.path("hash").asText("");
            if (hash.length() > SHORT_HASH && entry instanceof ObjectNode o) {
                o.put("hash", hash.substring(0, SHORT_HASH) + "...");
            }
        }
        return copy;
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
        if (copy instanceof ObjectNode o) {
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

    @Command(name = "verify", description = {"Check the audit log's hash chain on the server; exit status "
            + FleetkeyCli.AUDIT_BROKEN + " when it is broken.", "Keep the head it prints where the server cannot "
            + "write, and pass it later as --anchor to check that nothing up to it was rewritten."})
    int verify(@Option(names = "--anchor", paramLabel = "SEQ:HASH", description = "a head kept from an earlier "
            + "verify: the entry SEQ must still have this hash") String anchor) {
        Matcher kept = null;
        if (anchor != null) {
            kept = ANCHOR.matcher(anchor.strip());
            if (!kept.matches()) {
                throw new CliFailure(FleetkeyCli.USAGE, "--anchor '" + anchor + "' must be SEQ:HASH, the seq and the "
                        + "64-hex-digit hash of a head printed by an earlier verify");
            }
        }
        JsonNode answer = root.api().post("/audit/verify", null);
        boolean ok = answer.path("ok").asBoolean(false);
        if (root.json) {
            root.out.println(answer);
        } else {
            root.out.print(renderVerification(answer));
        }
        if (kept != null) {
            long seq = Long.parseLong(kept.group(1));
            JsonNode page = root.api().get("/audit" + ApiClient.query(ApiClient.parameters("after", seq - 1,
                    "limit", 1)));
            JsonNode entry = entries(page).path(0);
            String now = entry.path("seq").asLong(-1) == seq ? entry.path("hash").asText("") : null;
            if (!kept.group(2).equalsIgnoreCase(String.valueOf(now))) {
                (root.json ? root.err : root.out).println("the anchor does NOT hold: entry " + seq + (now == null
                        ? " is gone" : " now has hash " + now) + ", not the kept " + kept.group(2).toLowerCase(
                        java.util.Locale.ROOT) + "; the log was rewritten up to it");
                return FleetkeyCli.AUDIT_BROKEN;
            }
            if (!root.json) {
                root.out.println("the anchor holds: entry " + seq + " still has the kept hash");
            }
        }
        return ok ? FleetkeyCli.OK : FleetkeyCli.AUDIT_BROKEN;
    }

    static String renderVerification(JsonNode answer) {
        JsonNode head = answer.path("head");
        String headText = head.isObject() ? "head seq " + head.path("seq").asText("?") + ", hash "
                + head.path("hash").asText("?") : null;
        if (answer.path("ok").asBoolean(false)) {
            StringBuilder out = new StringBuilder("the audit log is intact: " + answer.path("entries").asText("?")
                    + " entries" + (headText == null ? "" : "; " + headText) + "\n");
            if (headText != null) {
                out.append("keep the head where the server cannot write; later: fleetkey audit verify --anchor ")
                        .append(head.path("seq").asText()).append(':').append(head.path("hash").asText()).append('\n');
            }
            out.append(Tables.details(without(answer, Set.of("ok", "entries", "head"), false), Map.of(), Set.of()));
            return out.toString();
        }
        JsonNode broken = answer.path("broken");
        StringBuilder out = new StringBuilder("the audit log is BROKEN");
        if (broken.isObject()) {
            out.append(" at entry ").append(broken.path("seq").asText("?"));
            if (broken.has("problem")) {
                out.append(" (").append(broken.path("problem").asText()).append(')');
            }
            if (broken.has("message")) {
                out.append(": ").append(broken.path("message").asText());
            }
        }
        out.append('\n');
        if (answer.has("entries")) {
            out.append(answer.path("entries").asText()).append(" entries checked out before it\n");
        }
        if (headText != null) {
            out.append("the server's ").append(headText).append('\n');
        }
        Set<String> shown = new java.util.HashSet<>(Set.of("ok", "entries", "head"));
        if (broken.isObject()) {
            shown.add("broken");
            JsonNode rest = without(broken, Set.of("seq", "problem", "message"), false);
            out.append(Tables.details(rest, Map.of(), Set.of()));
        }
        out.append(Tables.details(without(answer, shown, false), Map.of(), Set.of()));
        return out.toString();
    }
}
