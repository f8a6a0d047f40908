package io.fleetkey.server.testing;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads fields of JSON answers in tests. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException("not JSON: " + json, e);
        }
    }

    /** A field's text; {@code name} may be a path such as {@code items[0].reasons[1]}. */
    public static String field(String json, String name) {
        JsonNode node = parse(json);
        for (String step : name.split("\\.")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([^\\[]+)((\\[\\d+\\])*)").matcher(step);
            if (!m.matches()) {
                throw new IllegalArgumentException("bad path step '" + step + "'");
            }
            node = node == null ? null : node.get(m.group(1));
            java.util.regex.Matcher index = java.util.regex.Pattern.compile("\\[(\\d+)\\]").matcher(m.group(2));
            while (node != null && index.find()) {
                node = node.get(Integer.parseInt(index.group(1)));
            }
        }
        if (node == null) {
            throw new IllegalStateException("no field '" + name + "' in " + json);
        }
        return node.asText();
    }

    public static String write(Map<String, ?> value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
