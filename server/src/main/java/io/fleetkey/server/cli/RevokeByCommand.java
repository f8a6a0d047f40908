package io.fleetkey.server.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.protocol.DeviceIds;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code fleetkey devices revoke-by}: revoke every device that matches a filter
 * ({@code POST /api/v1/revocations}). It always asks for a dry run first and shows the count and
 * a sample; with {@code --yes} it then revokes exactly that many, passing the count as
 * {@code expectedCount} so that a set that changed in between is refused, not revoked.
 */
@Command(name = "revoke-by", description = {"Revoke every device that matches all the given filters.",
    "Runs a dry run first (count and sample); revokes only with --yes, and only if the same number of "
            + "devices still matches."})
final class RevokeByCommand implements Callable<Integer> {
    /** The server's limit of device ids in one filter. */
    static final int MAX_IDS = 10_000;
    private static final Pattern DIGEST = Pattern.compile("([^:]+):([0-9a-fA-F]{64})");

    @ParentCommand
    DevicesCommand devices;

    @Option(names = "--group", paramLabel = "G", description = "devices of this group")
    String group;

    @Option(names = "--digest", paramLabel = "COMPONENT:SHA256",
            description = "devices whose latest attestation reported this digest of a measured component, "
                    + "e.g. firmware:<64 hex>")
    String digest;

    @Option(names = "--sw-version", paramLabel = "V", description = "devices whose latest attestation reported "
            + "this software version")
    String swVersion;

    @Option(names = "--enrolled-from", paramLabel = "T", description = "first certificate at or after T "
            + "(2026-01-01 or 2026-01-01T00:00:00Z)")
    String enrolledFrom;

    @Option(names = "--enrolled-to", paramLabel = "T", description = "first certificate before T")
    String enrolledTo;

    @Option(names = "--ids-file", paramLabel = "F", description = "only these devices: one id a line "
            + "(# comments and a deviceId header line are skipped), at most " + MAX_IDS)
    Path idsFile;

    @Option(names = "--reason", required = true, paramLabel = "R", description = "RFC 5280 reason, e.g. keyCompromise")
    String reason;

    @Option(names = "--note", paramLabel = "N", description = "free text for the audit log, up to 500 characters")
    String note;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    @Option(names = "--expect", paramLabel = "N", description = "with --yes: revoke only if exactly N devices match")
    Integer expect;

    /** Exactly one of: look only, or revoke. */
    static final class Mode {
        @Option(names = "--dry-run", required = true, description = "show what would be revoked; change nothing")
        boolean dryRun;

        @Option(names = "--yes", required = true, description = "revoke the devices the dry run found")
        boolean yes;
    }

    @Override
    public Integer call() {
        FleetkeyCli root = devices.root;
        if (expect != null && !mode.yes) {
            throw new CliFailure(FleetkeyCli.USAGE, "--expect goes with --yes");
        }
        Map<String, Object> filter = filter();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("filter", filter);
        body.put("reason", reason);
        if (note != null) {
            body.put("note", note);
        }
        body.put("dryRun", true);
        JsonNode dryRun = root.api().post("/revocations", body);
        long matched = dryRun.path("matched").asLong();
        if (expect != null && expect != matched) {
            if (!root.json) {
                root.out.print(renderDryRun(dryRun));
            }
            throw new CliFailure(FleetkeyCli.REFUSED, matched + " device(s) match, not the " + expect
                    + " expected by --expect; nothing was revoked");
        }
        if (mode.dryRun || matched == 0) {
            if (root.json) {
                root.out.println(dryRun);
            } else {
                root.out.print(renderDryRun(dryRun));
                root.out.println(matched == 0 ? "nothing to revoke" : "nothing was revoked (dry run); to revoke "
                        + "them, run the same command with --yes instead of --dry-run");
            }
            return FleetkeyCli.OK;
        }
        if (!root.json) {
            root.out.print(renderDryRun(dryRun));
        }
        body.put("dryRun", false);
        body.put("expectedCount", matched);
        var answer = root.api().call("POST", "/revocations", body);
        if (answer.status() == 409 && answer.json().has("matched")) {
            throw new CliFailure(FleetkeyCli.REFUSED, "the matching devices changed since the dry run ("
                    + answer.json().path("matched").asLong() + " match now, " + matched + " then); nothing was "
                    + "revoked; run the command again to see the new set");
        }
        JsonNode revoked = root.api().expectOk(answer);
        if (root.json) {
            root.out.println(revoked);
        } else {
            root.out.print(renderRevocation(revoked));
        }
        return FleetkeyCli.OK;
    }

    /** The request's filter from the options, checked here so a typo never reaches the server. */
    Map<String, Object> filter() {
        Map<String, Object> filter = new LinkedHashMap<>();
        if (group != null) {
            filter.put("group", group);
        }
        if (digest != null) {
            var m = DIGEST.matcher(digest.strip());
            if (!m.matches()) {
                throw new CliFailure(FleetkeyCli.USAGE, "--digest '" + digest + "' must be COMPONENT:SHA256 with "
                        + "64 hex digits, e.g. firmware:" + "ab".repeat(32));
            }
            Map<String, String> measured = new LinkedHashMap<>();
            measured.put("component", m.group(1));
            measured.put("sha256", m.group(2).toLowerCase(Locale.ROOT));
            filter.put("digest", measured);
        }
        if (swVersion != null) {
            filter.put("swVersion", swVersion);
        }
        if (enrolledFrom != null) {
            filter.put("enrolledFrom", instant("--enrolled-from", enrolledFrom).toString());
        }
        if (enrolledTo != null) {
            filter.put("enrolledTo", instant("--enrolled-to", enrolledTo).toString());
        }
        if (idsFile != null) {
            filter.put("deviceIds", ids(idsFile));
        }
        if (filter.isEmpty()) {
            throw new CliFailure(FleetkeyCli.USAGE, "give at least one filter: --group, --digest, --sw-version, "
                    + "--enrolled-from, --enrolled-to or --ids-file (all given must match)");
        }
        return filter;
    }

    /** An ISO-8601 instant, or a date meaning its midnight UTC. */
    static Instant instant(String option, String value) {
        try {
            return value.contains("T") ? Instant.parse(value) : LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC)
                    .toInstant();
        } catch (DateTimeParseException e) {
            throw new CliFailure(FleetkeyCli.USAGE, option + " '" + value + "' is not a date (2026-01-01) or an "
                    + "instant (2026-01-01T00:00:00Z)");
        }
    }

    static List<String> ids(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliFailure(FleetkeyCli.USAGE, "--ids-file " + file + ": cannot read it (" + e + ")", e);
        }
        Set<String> ids = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String id = lines.get(i).strip();
            if (id.isEmpty() || id.startsWith("#") || (ids.isEmpty() && id.equalsIgnoreCase("deviceId"))) {
                continue;
            }
            if (!DeviceIds.isValid(id)) {
                problems.add("line " + (i + 1) + ": '" + id + "' is not a valid device id");
            }
            ids.add(id);
        }
        if (!problems.isEmpty()) {
            throw new CliFailure(FleetkeyCli.USAGE, "--ids-file " + file + ": " + problems.size() + " problem(s), "
                    + "nothing was sent: " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                    + (problems.size() > 5 ? "; ..." : ""));
        }
        if (ids.isEmpty() || ids.size() > MAX_IDS) {
            throw new CliFailure(FleetkeyCli.USAGE, "--ids-file " + file + " names " + ids.size()
                    + " device(s); give 1 to " + MAX_IDS + " (split a longer list)");
        }
        return List.copyOf(ids);
    }

    /** The dry run's answer: how many match, how many were revoked before, a sample; other fields as they come. */
    static String renderDryRun(JsonNode answer) {
        StringBuilder out = new StringBuilder();
        long matched = answer.path("matched").asLong();
        out.append(matched).append(" device(s) match");
        if (answer.path("alreadyRevoked").asLong() > 0) {
            out.append(" (").append(answer.path("alreadyRevoked").asLong())
                    .append(" more are revoked already and not counted)");
        }
        out.append('\n');
        JsonNode sample = answer.path("sample");
        if (!sample.isEmpty()) {
            out.append(sample.size() < matched ? "sample (" + sample.size() + " of " + matched + "): " : "devices: ")
                    .append(Tables.text(sample)).append('\n');
        }
        out.append(others(answer, Set.of("dryRun", "matched", "alreadyRevoked", "sample", "revoked",
                "revokedSerials", "reason")));
        return out.toString();
    }

    /** The revocation's answer: how many devices and certificates; other fields as they come. */
    static String renderRevocation(JsonNode answer) {
        StringBuilder out = new StringBuilder();
        out.append("revoked ").append(answer.path("revoked").asLong()).append(" device(s) and ")
                .append(answer.path("revokedSerials").isArray() ? answer.path("revokedSerials").size()
                        : answer.path("revokedSerials").asLong())
                .append(" certificate(s), reason ").append(answer.path("reason").asText("-")).append('\n');
        out.append(others(answer, Set.of("dryRun", "matched", "alreadyRevoked", "sample", "revoked",
                "revokedSerials", "reason")));
        return out.toString();
    }

    private static String others(JsonNode answer, Set<String> shown) {
        Map<String, String> none = Map.of();
        JsonNode rest = answer.deepCopy();
        if (rest instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                if (shown.contains(it.next())) {
                    it.remove();
                }
            }
        }
        return Tables.details(rest, none, Set.of());
    }
}
