package io.fleetkey.server.cli;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Human-readable views of JSON answers: aligned tables and "name: value" blocks. Fields the
 * command does not know (a newer server) are shown too, after the known ones, so nothing the
 * server says is hidden.
 */
final class Tables {
    private static final Pattern INSTANT = Pattern.compile("(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?Z");
    private static final String NONE = "-";

    /** A column: its header and the JSON field it shows. */
    record Column(String header, String field) {
    }

    private Tables() {
    }

    static Column column(String header, String field) {
        return new Column(header, field);
    }

    /**
     * A table of JSON objects: the known columns, then one for each other field that any item
     * has (its name as header). An empty list gives "".
     */
    static String table(JsonNode items, List<Column> known) {
        List<Column> columns = new ArrayList<>(known);
        Set<String> knownFields = new LinkedHashSet<>();
        known.forEach(c -> knownFields.add(c.field()));
        Set<String> extra = new LinkedHashSet<>();
        for (JsonNode item : items) {
            item.fieldNames().forEachRemaining(name -> {
                if (!knownFields.contains(name)) {
                    extra.add(name);
                }
            });
        }
        extra.forEach(name -> columns.add(new Column(name.toUpperCase(java.util.Locale.ROOT), name)));
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode item : items) {
            rows.add(columns.stream().map(c -> text(item.get(c.field()))).toList());
        }
        return rows.isEmpty() ? "" : aligned(columns.stream().map(Column::header).toList(), rows);
    }

    /** Rows under headers, each column as wide as its widest cell, two spaces apart. */
    static String aligned(List<String> headers, List<List<String>> rows) {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = headers.get(i).length();
            for (List<String> row : rows) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, headers, width);
        rows.forEach(row -> line(out, row, width));
        return out.toString();
    }

    private static void line(StringBuilder out, List<String> cells, int[] width) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            line.append(cells.get(i));
            if (i < cells.size() - 1) {
                line.append(" ".repeat(width[i] - cells.get(i).length() + 2));
            }
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }

    /**
     * "label: value" lines for one JSON object: the known fields under their labels, then every
     * other field but those in {@code skip} (shown elsewhere, e.g. as a table), under its name.
     */
    static String details(JsonNode object, Map<String, String> labelsByField, Set<String> skip) {
        List<String> labels = new ArrayList<>();
        List<String> values = new ArrayList<>();
        labelsByField.forEach((field, label) -> {
            if (object.has(field)) {
                labels.add(label);
                values.add(text(object.get(field)));
            }
        });
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!labelsByField.containsKey(name) && !skip.contains(name)) {
                labels.add(name);
                values.add(text(object.get(name)));
            }
        }
        int width = labels.stream().mapToInt(String::length).max().orElse(0) + 1;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < labels.size(); i++) {
            out.append((labels.get(i) + ":" + " ".repeat(width - labels.get(i).length() + 1) + values.get(i))
                    .stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** One value as a cell: "-" for none, instants to the second, lists comma-separated, objects as JSON. */
    static String text(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return NONE;
        }
        if (value.isTextual()) {
            String s = value.asText();
            var m = INSTANT.matcher(s);
            return m.matches() ? m.group(1) + "Z" : s.replaceAll("[\\p{Cntrl}]", " ");
        }
        if (value.isArray() && allScalar(value)) {
            if (value.isEmpty()) {
                return NONE;
            }
            List<String> parts = new ArrayList<>();
            value.forEach(v -> parts.add(text(v)));
            return String.join(", ", parts);
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    private static boolean allScalar(JsonNode array) {
        for (JsonNode v : array) {
            if (v.isContainerNode()) {
                return false;
            }
        }
        return true;
    }
}
