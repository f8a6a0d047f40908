package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class HtmlReportTest {
    @Test
    void markup_and_quotes_are_escaped_for_content_and_attributes() {
        assertThat(Html.escape("<a href=\"x\" title='y'>&amp;</a>"))
                .isEqualTo("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
        assertThat(Html.escape("bell\u0007 nul\u0000 tab\tnewline\n")).isEqualTo("bell\uFFFD nul\uFFFD tab\tnewline\n");
        assertThat(Html.escape(null)).isEmpty();
    }

    @Test
    void reasons_samples_and_settings_from_the_run_cannot_inject_markup() {
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        java.util.Map<String, String> settings = java.util.Map.of("group", "</td><script>x()</script>");
        RunRecorder run = new RunRecorder("storm\"><svg onload=alert(1)>", settings, java.time.Clock.systemUTC(), nanos::get);
        run.series(Door.COAP, Operation.ENROLL).refused(SampleRuns.MARKUP_REASON, SampleRuns.MARKUP_SAMPLE);
        run.faultBegins("coap-loss", "<i>20%</i> loss").recovery(1, 0, "a & b");
        String html = HtmlReport.render(run.finish());

        assertThat(html).doesNotContain("<script", "<svg onload", "<img", "<b>", "<i>");
        assertThat(html).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
                "device &quot;&lt;b&gt;evil&lt;/b&gt;&quot; &amp; &lt;img src=x onerror=alert(1)&gt;",
                "&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;", "storm&quot;&gt;&lt;svg onload=alert(1)&gt;",
                "&lt;i&gt;20%&lt;/i&gt; loss", "a &amp; b");
    }

    @Test
    void the_page_has_both_charts_with_a_line_per_door_and_operation_and_every_table() {
        RunReport report = SampleRuns.realistic();
        String html = HtmlReport.render(report);

        assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg id=\"throughput-chart\"", "<svg id=\"latency-chart\"",
                "id=\"summary-table\"", "id=\"series-table\"", "id=\"reason-table\"", "id=\"fault-table\"",
                "id=\"baseline-table\"", "id=\"settings-table\"", "id=\"machine-table\"");
        String throughput = element(html, "throughput-chart");
        String latency = element(html, "latency-chart");
        assertThat(count(throughput, "<polyline class=\"series\"")).isEqualTo(report.series().size());
        assertThat(count(throughput, "<polyline class=\"unsuccessful\"")).isEqualTo(1);
        assertThat(count(throughput, "<rect class=\"fault-band\"")).isEqualTo(1);
        assertThat(count(latency, "<polyline class=\"series\"")).isEqualTo(report.series().size());
        assertThat(throughput).contains("data-series=\"HTTPS enroll\"", "data-series=\"MQTT cut-off check\"");
        // Nothing leaves the page: no script, no link, no remote resource.
        assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", ""))
                .doesNotContain("<script", "<link", "http://", "https://", "@import", "url(");
    }

    @Test
    void every_polyline_point_lies_inside_its_chart() {
        String html = HtmlReport.render(SampleRuns.realistic());
        Matcher points = Pattern.compile("points=\"([^\"]*)\"").matcher(html);
        int lines = 0;
        while (points.find()) {
            lines++;
            for (String point : points.group(1).split(" ")) {
                String[] xy = point.split(",");
                assertThat(Double.parseDouble(xy[0])).isBetween(70.0, 1080.0);
                assertThat(Double.parseDouble(xy[1])).isBetween(15.0, 295.0);
            }
        }
        assertThat(lines).isEqualTo(11);
    }

    @Test
    void percentiles_are_spaced_by_decades_of_the_tail() {
        assertThat(HtmlReport.percentilePosition(0)).isEqualTo(0);
        assertThat(HtmlReport.percentilePosition(90)).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(HtmlReport.percentilePosition(99.9)).isCloseTo(3, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(HtmlReport.percentilePosition(100)).isEqualTo(4.5);
    }

    static String element(String html, String id) {
        int start = html.indexOf("<svg id=\"" + id + "\"");
        return html.substring(start, html.indexOf("</svg>", start));
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            count++;
        }
        return count;
    }
}
