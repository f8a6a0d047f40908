package io.fleetkey.simulator.report;

import java.util.Locale;
import java.util.Map;

/** The report as plain text for a terminal or a CI log. */
public final class TextSummary {
    private TextSummary() {
    }

    public static String format(RunReport report) {
        StringBuilder out = new StringBuilder();
        double seconds = report.elapsedSeconds();
        line(out, "Run %s: %.2f s from %s, %d cores, Java %s", report.scenario(), seconds, report.startedAt(),
                report.machine().cores(), report.machine().javaVersion());
        if (!report.settings().isEmpty()) {
            StringBuilder shown = new StringBuilder();
            report.settings().forEach((key, value) -> shown.append(shown.length() == 0 ? "" : ", ").append(key)
                    .append('=').append(value));
            line(out, "  settings     %s", shown);
        }
        line(out, "  operations   %d", report.totalOperations());
        line(out, "  succeeded    %d", report.total(Outcome.SUCCEEDED));
        line(out, "  refused      %d", report.total(Outcome.REFUSED));
        line(out, "  failed       %d", report.total(Outcome.FAILED));
        if (report.total(Outcome.NOT_RUN) > 0) {
            line(out, "  not run      %d (time ran out)", report.total(Outcome.NOT_RUN));
        }
        for (RunReport.Series series : report.series()) {
            line(out, "  %s", series.name());
            line(out, "    succeeded %d   refused %d   failed %d   not run %d", series.count(Outcome.SUCCEEDED),
                    series.count(Outcome.REFUSED), series.count(Outcome.FAILED), series.count(Outcome.NOT_RUN));
            reasons(out, "refused", series.refusals(), series.samples());
            reasons(out, "failed ", series.failures(), series.samples());
            line(out, "    throughput   %.1f/s", perSecond(series.count(Outcome.SUCCEEDED), seconds));
            latency(out, "    ", series.latency());
        }
        for (RunReport.Fault fault : report.faults()) {
            line(out, "  fault %s (%s): %.1f s to %s, %d failures during it%s, %d recovered, %d not recovered%s",
                    fault.kind(), fault.detail(), fault.startSecond(),
                    fault.endSecond() == null ? "the end" : String.format(Locale.ROOT, "%.1f s", fault.endSecond()),
                    fault.failuresDuring(), fault.failuresBySeries().isEmpty() ? "" : " " + fault.failuresBySeries(),
                    fault.recovered(), fault.notRecovered(), fault.recovery() == null ? "" : "; " + fault.recovery());
        }
        RunReport.Baseline baseline = report.baseline();
        if (baseline != null) {
            line(out, "  baseline %s: %.1f/s on %d threads (%s)", baseline.name(), baseline.perSecond(),
                    baseline.threads(), baseline.description());
            latency(out, "    ", baseline.latency());
        }
        return out.toString();
    }

    private static void reasons(StringBuilder out, String label, Map<String, Long> counts, Map<String, String> samples) {
        int width = counts.keySet().stream().mapToInt(String::length).max().orElse(0);
        counts.forEach((reason, count) -> {
            String sample = samples.getOrDefault(reason, "");
            line(out, "      %s %-" + width + "s  %d%s", label, reason, count, sample.isEmpty() ? "" : "   e.g. " + sample);
        });
    }

    private static void latency(StringBuilder out, String indent, RunReport.Latency latency) {
        if (latency.count() == 0) {
            line(out, "%slatency ms   none measured", indent);
        } else {
            line(out, "%slatency ms   p50 %.1f   p90 %.1f   p99 %.1f   max %.1f", indent, latency.p50Ms(),
                    latency.p90Ms(), latency.p99Ms(), latency.maxMs());
        }
    }

    static double perSecond(long count, double seconds) {
        return seconds <= 0 ? 0 : count / seconds;
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append(System.lineSeparator());
    }
}
