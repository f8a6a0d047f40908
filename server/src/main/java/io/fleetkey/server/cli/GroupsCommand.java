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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code fleetkey groups list|show|create}. */
@Command(name = "groups", description = "List, show and create enrollment groups.")
final class GroupsCommand {
    static final List<Tables.Column> COLUMNS = List.of(Tables.column("NAME", "name"),
            Tables.column("PROFILE", "profile"), Tables.column("APPROVAL", "requireApproval"),
            Tables.column("MAKER CAS", "makerCas"), Tables.column("ATTESTATION", "attestation"),
            Tables.column("CREATED", "createdAt"));

    @ParentCommand
    FleetkeyCli root;

    @Command(name = "list", description = "List the groups.")
    int list() {
        JsonNode groups = root.api().get("/groups");
        if (root.json) {
            root.out.println(groups);
            return FleetkeyCli.OK;
        }
        if (groups.isEmpty()) {
            root.out.println("no groups yet; create one with: fleetkey groups create NAME --profile device");
            return FleetkeyCli.OK;
        }
        List<JsonNode> rows = new ArrayList<>();
        groups.forEach(g -> rows.add(summary(g)));
        root.out.print(Tables.table(ApiClient.JSON.valueToTree(rows), COLUMNS));
        return FleetkeyCli.OK;
    }

    /** A group as one table row: maker CAs as a count, attestation as its mode, lists short. */
    static JsonNode summary(JsonNode group) {
        var row = group.deepCopy();
        if (row instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            if (group.has("makerCas")) {
                o.put("makerCas", group.get("makerCas").size());
            }
            if (group.has("makerCrls")) {
                o.remove("makerCrls");
            }
            if (group.path("attestation").isObject()) {
                o.put("attestation", group.path("attestation").path("mode").asText("-"));
            }
            if (group.has("requireApproval")) {
                o.put("requireApproval", group.get("requireApproval").asBoolean() ? "required" : "no");
            }
            o.remove("allowedDnsNames");
        }
        return row;
    }

    @Command(name = "show", description = "Show a group: profile, approval, maker CAs and CRLs, attestation policy.")
    int show(@Parameters(paramLabel = "NAME", description = "the group's name") String name) {
        JsonNode group = root.api().get("/groups/" + ApiClient.segment(name));
        if (root.json) {
            root.out.println(group);
            return FleetkeyCli.OK;
        }
        root.out.print(renderGroup(group));
        return FleetkeyCli.OK;
    }

    static String renderGroup(JsonNode group) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("name", "name");
        labels.put("profile", "profile");
        labels.put("requireApproval", "approval required");
        labels.put("allowedDnsNames", "allowed DNS names");
        labels.put("createdAt", "created");
        StringBuilder out = new StringBuilder(Tables.details(group, labels,
                Set.of("makerCas", "makerCrls", "attestation")));
        section(out, "maker CAs", group.path("makerCas"), List.of(Tables.column("SUBJECT", "subject"),
                Tables.column("SHA-256", "sha256"), Tables.column("NOT AFTER", "notAfter")));
        section(out, "maker CRLs", group.path("makerCrls"), List.of(Tables.column("ISSUER", "issuer"),
                Tables.column("THIS UPDATE", "thisUpdate"), Tables.column("NEXT UPDATE", "nextUpdate"),
                Tables.column("REVOKED", "revoked")));
        JsonNode attestation = group.path("attestation");
        if (attestation.isObject()) {
            out.append("\nattestation:\n");
            Map<String, String> policy = new LinkedHashMap<>();
            policy.put("mode", "  mode");
            policy.put("onWarning", "  on warning");
            policy.put("requireNonce", "  nonce required");
            policy.put("restrictedProfile", "  restricted profile");
            policy.put("allowedModels", "  allowed models");
            policy.put("minimumVersion", "  minimum version");
            policy.put("debugAllowed", "  debug allowed");
            out.append(Tables.details(attestation, policy, Set.of("allowedDigests")));
            section(out, "allowed digests", attestation.path("allowedDigests"), List.of(
                    Tables.column("COMPONENT", "component"), Tables.column("SHA-256", "sha256"),
                    Tables.column("ADDED", "addedAt"), Tables.column("NOTE", "note"),
                    Tables.column("WITHDRAWN", "withdrawnAt")));
        }
        return out.toString();
    }

    /** A titled table of a list field, or "title: none". */
    static void section(StringBuilder out, String title, JsonNode items, List<Tables.Column> columns) {
        if (items.isMissingNode()) {
            return;
        }
        if (items.isEmpty()) {
            out.append('\n').append(title).append(": none\n");
            return;
        }
        out.append('\n').append(title).append(":\n").append(Tables.table(items, columns));
    }

    @Command(name = "create", description = "Create a group.")
    int create(@Parameters(paramLabel = "NAME", description = "the group's name") String name,
               @Option(names = "--profile", required = true, paramLabel = "P",
                       description = "certificate profile of the group's devices: device, gateway, restricted, "
                               + "or one the server's configuration adds") String profile,
               @Option(names = "--require-approval",
                       description = "hold each device's first key until a fleet manager approves it") boolean approval,
               @Option(names = "--maker-ca", paramLabel = "FILE.pem",
                       description = "a maker CA (PEM) whose factory certificates (IDevIDs) may enroll; repeatable")
               List<Path> makerCas) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("profile", profile);
        if (approval) {
            body.put("requireApproval", true);
        }
        if (makerCas != null && !makerCas.isEmpty()) {
            body.put("makerCas", makerCas.stream().map(GroupsCommand::pem).toList());
        }
        JsonNode group = root.api().post("/groups", body);
        if (root.json) {
            root.out.println(group);
            return FleetkeyCli.OK;
        }
        root.out.println("created group " + group.path("name").asText(name));
        root.out.print(renderGroup(group));
        return FleetkeyCli.OK;
    }

    private static String pem(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new CliFailure(FleetkeyCli.USAGE, "--maker-ca " + file + ": cannot read it (" + e + ")", e);
        }
        if (!text.contains("-----BEGIN CERTIFICATE-----")) {
            throw new CliFailure(FleetkeyCli.USAGE, "--maker-ca " + file
                    + " holds no '-----BEGIN CERTIFICATE-----' block; pass the maker CA certificate as PEM");
        }
        return text;
    }
}
