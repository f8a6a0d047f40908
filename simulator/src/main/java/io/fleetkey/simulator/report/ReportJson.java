package io.fleetkey.simulator.report;

import java.io.IOException;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The report as JSON: every figure of {@link RunReport}, field for field. */
public final class ReportJson {
    // Unknown fields are ignored so a newer report still reads with an older simulator.
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ReportJson() {
    }

    public static String write(RunReport report) {
        try {
            return MAPPER.writeValueAsString(report);
        } catch (IOException e) {
            throw new IllegalStateException("the report cannot be written as JSON", e);
        }
    }

    public static RunReport read(String json) throws IOException {
        return MAPPER.readValue(json, RunReport.class);
    }
}
