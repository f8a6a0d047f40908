package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ReportJsonTest {
    @Test
    void a_report_reads_back_equal_from_its_json() throws Exception {
        RunReport report = SampleRuns.realistic();
        String json = ReportJson.write(report);
        RunReport read = ReportJson.read(json);

        assertThat(read).isEqualTo(report);
        assertThat(ReportJson.write(read)).isEqualTo(json);
        RunReport.Latency latency = read.series().get(0).latency();
        assertThat(latency.decodeHistogram().getValueAtPercentile(99) / 1000.0).isEqualTo(latency.p99Ms());
    }

    @Test
    void the_json_has_every_figure_under_plain_names() throws Exception {
        JsonNode json = new ObjectMapper().readTree(ReportJson.write(SampleRuns.realistic()));

        assertThat(json.get("scenario").asText()).isEqualTo("first-boot-storm");
        assertThat(json.get("settings").get("ramp").asText()).isEqualTo("150 devices/s");
        assertThat(json.get("machine").get("cores").asInt()).isPositive();
        JsonNode first = json.get("series").get(0);
        assertThat(first.get("door").asText()).isEqualTo("HTTPS");
        assertThat(first.get("operation").asText()).isEqualTo("ENROLL");
        assertThat(first.get("outcomes").get("SUCCEEDED").asLong()).isPositive();
        assertThat(first.get("refusals").get("TOKEN_USED").asLong()).isPositive();
        assertThat(first.get("latency").get("p99Ms").asDouble()).isGreaterThan(first.get("latency").get("p50Ms").asDouble());
        assertThat(first.get("latency").get("curve")).hasSize(RunReport.Latency.CURVE_PERCENTILES.length);
        assertThat(first.get("timeline").get("succeeded")).hasSize(40);
        assertThat(json.get("faults").get(0).get("failuresDuring").asLong()).isGreaterThanOrEqualTo(180);
        assertThat(json.get("baseline").get("operations").asLong()).isEqualTo(20_000);
    }

    @Test
    void unknown_fields_from_a_newer_report_are_ignored_and_a_missing_baseline_stays_missing() throws Exception {
        RunReport plain = SampleRuns.recorder(new java.util.concurrent.atomic.AtomicLong()).finish();
        String json = ReportJson.write(plain);
        assertThat(json).doesNotContain("baseline");
        RunReport read = ReportJson.read(json.replaceFirst("\\{", "{\"addedLater\": {\"x\": 1},"));
        assertThat(read).isEqualTo(plain);
    }
}
