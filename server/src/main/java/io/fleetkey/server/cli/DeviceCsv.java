package io.fleetkey.server.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.DeviceIds;

/**
 * The device list of {@code devices import}: CSV with a header line naming a {@code deviceId}
 * column and optionally a {@code group} column (other columns are ignored). The whole file is
 * checked before anything is sent, and every problem is reported with its line number.
 */
final class DeviceCsv {
    private static final int MAX_REPORTED = 20;

    /** One device to register; {@code line} is its line in the file (1 is the header). */
    record Row(int line, String deviceId, String group) {
    }

    private DeviceCsv() {
    }

    /**
     * @param defaultGroup the group of rows without one (--group), or null
     * @throws CliFailure (usage) listing the problems, when there is any
     */
    static List<Row> read(Path file, String defaultGroup) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliFailure(FleetkeyCli.USAGE, file + ": cannot read it (" + e + ")", e);
        }
        return parse(file.toString(), lines, defaultGroup);
    }

    static List<Row> parse(String name, List<String> lines, String defaultGroup) {
        int headerIndex = 0;
        while (headerIndex < lines.size() && lines.get(headerIndex).isBlank()) {
            headerIndex++;
        }
        if (headerIndex == lines.size()) {
            throw new CliFailure(FleetkeyCli.USAGE, name + " is empty; it needs a header line with a deviceId "
                    + "column, then one device per line");
        }
        List<String> header = fields(lines.get(headerIndex).replace("\uFEFF", ""));
        int idColumn = indexOf(header, "deviceId");
        int groupColumn = indexOf(header, "group");
        if (idColumn < 0) {
            throw new CliFailure(FleetkeyCli.USAGE, name + " line " + (headerIndex + 1) + ": the header " + header
                    + " has no deviceId column; the first line must name the columns, e.g. deviceId,group");
        }
        List<Row> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = headerIndex + 1; i < lines.size(); i++) {
            int line = i + 1;
            if (lines.get(i).isBlank()) {
                continue;
            }
            List<String> fields = fields(lines.get(i));
            if (fields.size() != header.size()) {
                problems.add("line " + line + ": " + fields.size() + " fields where the header has " + header.size());
                continue;
            }
            String id = fields.get(idColumn);
            String group = groupColumn >= 0 && !fields.get(groupColumn).isEmpty() ? fields.get(groupColumn)
                    : defaultGroup;
            if (!DeviceIds.isValid(id)) {
                problems.add("line " + line + ": '" + printable(id) + "' is not a valid device id ("
                        + DeviceIds.rule() + ")");
            } else if (seen.containsKey(id)) {
                problems.add("line " + line + ": '" + id + "' is already on line " + seen.get(id));
            } else {
                seen.put(id, line);
            }
            if (group == null) {
                problems.add("line " + line + ": no group; fill the group column or pass --group");
            }
            rows.add(new Row(line, id, group));
        }
        if (!problems.isEmpty()) {
            StringBuilder message = new StringBuilder(name + ": " + problems.size()
                    + " problem(s); nothing was registered:");
            problems.stream().limit(MAX_REPORTED).forEach(p -> message.append("\n  ").append(p));
            if (problems.size() > MAX_REPORTED) {
                message.append("\n  ... and ").append(problems.size() - MAX_REPORTED).append(" more");
            }
            throw new CliFailure(FleetkeyCli.USAGE, message.toString());
        }
        if (rows.isEmpty()) {
            throw new CliFailure(FleetkeyCli.USAGE, name + " names no device; add one device id per line after "
                    + "the header");
        }
        return rows;
    }

    private static int indexOf(List<String> header, String column) {
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).equalsIgnoreCase(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The fields of one line: comma-separated, optionally in double quotes ("" is a quote), trimmed. */
    static List<String> fields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(field.toString().strip());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString().strip());
        return fields;
    }

    private static String printable(String s) {
        String shown = s.replaceAll("\\p{Cntrl}", "?");
        return shown.length() > 70 ? shown.substring(0, 70) + "..." : shown;
    }
}
