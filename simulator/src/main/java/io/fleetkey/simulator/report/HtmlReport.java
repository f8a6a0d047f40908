package io.fleetkey.simulator.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report as one self-contained HTML page: inline CSS and SVG charts drawn here, no script,
 * no font or file fetched, so it opens in any browser with no network. Every text from the run
 * (reasons, samples, settings) is escaped with {@link Html#escape}.
 *
 * <p>Stable hooks for tests and readers: {@code svg#throughput-chart} (one
 * {@code polyline.series} per door and operation, {@code polyline.unsuccessful} for refusals and
 * failures, {@code rect.fault-band} per fault), {@code svg#latency-chart} (one
 * {@code polyline.series} per door and operation), and the tables {@code #summary-table},
 * {@code #series-table}, {@code #reason-table}, {@code #fault-table}, {@code #baseline-table},
 * {@code #settings-table}, {@code #machine-table}.
 */
public final class HtmlReport {
    static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
        "#bcbd22"};
    static final String UNSUCCESSFUL_COLOR = "#d62728";
    private static final int WIDTH = 1100;
    private static final int HEIGHT = 340;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 15;
    private static final int BOTTOM = 45;
    /** Where the latency chart puts the maximum: half a decade past 99.99 %. */
    private static final double MAX_POSITION = 4.5;

    private static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto;
                   max-width: 1160px; color: #222; background: #fff; }
            h1 { font-size: 1.5em; margin-bottom: 0.2em; }
            h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
            p.lead { color: #555; margin-top: 0; }
            table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
            th, td { border: 1px solid #ddd; padding: 3px 9px; text-align: left; vertical-align: top; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
            th { background: #f4f4f4; }
            td.bad { color: #b00; font-weight: 600; }
            svg { display: block; background: #fcfcfc; border: 1px solid #e4e4e4; }
            svg text { font-size: 12px; fill: #444; }
            svg .grid { stroke: #e6e6e6; }
            svg .axis { stroke: #888; }
            svg .series, svg .unsuccessful { fill: none; stroke-width: 2; }
            svg .unsuccessful { stroke-dasharray: 6 4; }
            svg .fault-band { fill: #f5c542; fill-opacity: 0.25; }
            ul.legend { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 18px; }
            ul.legend span.swatch { display: inline-block; width: 22px; height: 4px; margin-right: 6px;
                                    vertical-align: middle; }
            .note { color: #666; font-size: 0.9em; }
            """;

    private HtmlReport() {
    }

    public static String render(RunReport report) {
        StringBuilder h = new StringBuilder(64 * 1024);
        String title = "Fleetkey simulator: " + report.scenario();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Html.escape(title)).append("</title>\n<style>\n").append(CSS)
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(Html.escape(title)).append("</h1>\n");
        h.append("<p class=\"lead\">").append(Html.escape(report.startedAt())).append(" to ")
                .append(Html.escape(report.endedAt())).append(", ").append(fmt("%.2f", report.elapsedSeconds()))
                .append(" s on ").append(report.machine().cores()).append(" cores, Java ")
                .append(Html.escape(report.machine().javaVersion())).append("</p>\n");

        summary(h, report);
        h.append("<h2>Throughput over time</h2>\n<p class=\"note\">Successful operations per second of the run, "
                + "per door and operation; the dashed line counts refusals and failures of every door; shaded bands "
                + "are injected faults.</p>\n");
        throughputChart(h, report);
        h.append("<h2>Latency</h2>\n<p class=\"note\">Latency of the successful operations by percentile "
                + "(HdrHistogram); the horizontal axis stretches the tail: 90 %, 99 %, 99.9 %, 99.99 % are equally "
                + "spaced.</p>\n");
        latencyChart(h, report);
        seriesTable(h, report);
        h.append("<h2>Refusals and failures</h2>\n");
        reasonTable(h, report);
        h.append("<h2>Faults</h2>\n");
        faultTable(h, report);
        h.append("<h2>Crypto-only baseline</h2>\n");
        baselineTable(h, report);
        h.append("<h2>Run</h2>\n");
        keyValues(h, "settings-table", report.settings());
        RunReport.Machine m = report.machine();
        Map<String, String> machine = new java.util.LinkedHashMap<>();
        machine.put("cores", Integer.toString(m.cores()));
        machine.put("JVM", m.jvm());
        machine.put("Java", m.javaVersion());
        machine.put("OS", m.os() + " " + m.arch());
        machine.put("max heap", fmt("%.0f MiB", m.maxHeapBytes() / 1048576.0));
        keyValues(h, "machine-table", machine);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void summary(StringBuilder h, RunReport report) {
        long operations = report.totalOperations();
        h.append("<table id=\"summary-table\">\n");
        row(h, "operations", Long.toString(operations), false);
        row(h, "succeeded", Long.toString(report.total(Outcome.SUCCEEDED)), false);
        row(h, "refused", Long.toString(report.total(Outcome.REFUSED)), report.total(Outcome.REFUSED) > 0);
        row(h, "failed", Long.toString(report.total(Outcome.FAILED)), report.total(Outcome.FAILED) > 0);
        row(h, "not run", Long.toString(report.total(Outcome.NOT_RUN)), report.total(Outcome.NOT_RUN) > 0);
        row(h, "unsuccessful share", operations == 0 ? "-" : fmt("%.3f %%", 100.0 * report.totalUnsuccessful() / operations),
                report.totalUnsuccessful() > 0);
        row(h, "throughput", fmt("%.1f successful operations/s",
                TextSummary.perSecond(report.total(Outcome.SUCCEEDED), report.elapsedSeconds())), false);
        h.append("</table>\n");
    }

    private static void row(StringBuilder h, String name, String value, boolean bad) {
        h.append("<tr><th>").append(Html.escape(name)).append("</th><td class=\"n").append(bad ? " bad" : "")
                .append("\">").append(Html.escape(value)).append("</td></tr>\n");
    }

    // ---- charts ----

    private static void throughputChart(StringBuilder h, RunReport report) {
        int seconds = report.series().stream().mapToInt(s -> s.timeline().seconds()).max().orElse(0);
        long[] unsuccessful = new long[seconds];
        long highest = 0;
        for (RunReport.Series s : report.series()) {
            for (int i = 0; i < s.timeline().seconds(); i++) {
                highest = Math.max(highest, s.timeline().succeeded().get(i));
                unsuccessful[i] += s.timeline().refused().get(i) + s.timeline().failed().get(i);
            }
        }
        boolean anyUnsuccessful = false;
        for (long u : unsuccessful) {
            highest = Math.max(highest, u);
            anyUnsuccessful |= u > 0;
        }
        Axis x = Axis.of(Math.max(1, seconds));
        Axis y = Axis.of(Math.max(1, highest));
        h.append("<svg id=\"throughput-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH)
                .append("\" height=\"").append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\" role=\"img\" aria-label=\"Throughput over time\">\n");
        for (RunReport.Fault fault : report.faults()) {
            double from = xPos(fault.startSecond(), x.max());
            double to = xPos(fault.endSecond() == null ? seconds : fault.endSecond(), x.max());
            h.append("<rect class=\"fault-band\" x=\"").append(fmt("%.1f", from)).append("\" y=\"").append(TOP)
                    .append("\" width=\"").append(fmt("%.1f", Math.max(2, to - from))).append("\" height=\"")
                    .append(HEIGHT - TOP - BOTTOM).append("\"><title>").append(Html.escape(fault.kind() + ": "
                            + fault.detail())).append("</title></rect>\n");
        }
        grid(h, x.ticks(), x.max(), y, "second of the run", "operations/s", HtmlReport::trim);
        List<String> legend = new ArrayList<>();
        int index = 0;
        for (RunReport.Series s : report.series()) {
            String color = PALETTE[index++ % PALETTE.length];
            double[] values = new double[s.timeline().seconds()];
            for (int i = 0; i < values.length; i++) {
                values[i] = s.timeline().succeeded().get(i);
            }
            line(h, "series", s, color, values, x.max(), y.max());
            legend.add(legendItem(color, s.name() + " succeeded"));
        }
        if (anyUnsuccessful) {
            double[] values = new double[seconds];
            for (int i = 0; i < seconds; i++) {
                values[i] = unsuccessful[i];
            }
            line(h, "unsuccessful", null, UNSUCCESSFUL_COLOR, values, x.max(), y.max());
            legend.add(legendItem(UNSUCCESSFUL_COLOR, "refused or failed (all)"));
        }
        h.append("</svg>\n");
        legend(h, "throughput-legend", legend);
    }

    private static void line(StringBuilder h, String cssClass, RunReport.Series series, String color, double[] perSecond,
                             double xMax, double yMax) {
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < perSecond.length; i++) {
            // A second's count is drawn at its middle.
            points.append(fmt("%.1f,%.1f ", xPos(i + 0.5, xMax), yPos(perSecond[i], yMax)));
        }
        h.append("<polyline class=\"").append(cssClass).append("\"");
        if (series != null) {
            h.append(" data-series=\"").append(Html.escape(series.name())).append("\"");
        }
        h.append(" stroke=\"").append(color).append("\" points=\"").append(points.toString().trim()).append("\"/>\n");
        if (perSecond.length <= 30) {
            // Short runs get markers: a line of one or two points is hard to see.
            for (int i = 0; i < perSecond.length; i++) {
                h.append("<circle class=\"marker\" r=\"3\" fill=\"").append(color).append("\" cx=\"")
                        .append(fmt("%.1f", xPos(i + 0.5, xMax))).append("\" cy=\"")
                        .append(fmt("%.1f", yPos(perSecond[i], yMax))).append("\"/>\n");
            }
        }
    }

    private static void latencyChart(StringBuilder h, RunReport report) {
        double highest = report.series().stream().mapToDouble(s -> s.latency().maxMs()).max().orElse(0);
        Axis y = Axis.of(Math.max(1, highest));
        h.append("<svg id=\"latency-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH)
                .append("\" height=\"").append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\" role=\"img\" aria-label=\"Latency by percentile\">\n");
        grid(h, new double[]{0, 1, 2, 3, 4, MAX_POSITION}, MAX_POSITION, y, "percentile", "latency ms",
                HtmlReport::percentileLabel);
        List<String> legend = new ArrayList<>();
        int index = 0;
        for (RunReport.Series s : report.series()) {
            String color = PALETTE[index++ % PALETTE.length];
            if (s.latency().count() == 0) {
                continue;
            }
            StringBuilder points = new StringBuilder();
            for (RunReport.Point p : s.latency().curve()) {
                points.append(fmt("%.1f,%.1f ", xPos(percentilePosition(p.percentile()), MAX_POSITION),
                        yPos(p.valueMs(), y.max())));
            }
            h.append("<polyline class=\"series\" data-series=\"").append(Html.escape(s.name())).append("\" stroke=\"")
                    .append(color).append("\" points=\"").append(points.toString().trim()).append("\"/>\n");
            legend.add(legendItem(color, s.name() + fmt(" (%d measured)", s.latency().count())));
        }
        h.append("</svg>\n");
        legend(h, "latency-legend", legend);
    }

    /** 0 % at 0, 90 % at 1, 99 % at 2 ... 99.99 % at 4, the maximum at 4.5. */
    static double percentilePosition(double percentile) {
        if (percentile >= 100) {
            return MAX_POSITION;
        }
        return Math.min(MAX_POSITION, Math.log10(100.0 / (100.0 - percentile)));
    }

    private static String percentileLabel(double position) {
        if (position >= MAX_POSITION) {
            return "max";
        }
        double percentile = 100.0 - 100.0 / Math.pow(10, position);
        return trim(Math.round(percentile * 1000) / 1000.0) + "%";
    }

    private static void grid(StringBuilder h, double[] xTicks, double xMax, Axis y, String xTitle, String yTitle,
                             java.util.function.DoubleFunction<String> xLabel) {
        int bottom = HEIGHT - BOTTOM;
        for (double v : y.ticks()) {
            double py = yPos(v, y.max());
            h.append(fmt("<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", LEFT, py, WIDTH - RIGHT, py))
                    .append(fmt("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LEFT - 6, py + 4))
                    .append(Html.escape(trim(v))).append("</text>\n");
        }
        for (double v : xTicks) {
            double px = xPos(v, xMax);
            h.append(fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", px, TOP, px, bottom))
                    .append(fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", px, bottom + 16))
                    .append(Html.escape(xLabel.apply(v))).append("</text>\n");
        }
        h.append(fmt("<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, bottom, WIDTH - RIGHT, bottom))
                .append(fmt("<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP, LEFT, bottom))
                .append(fmt("<text class=\"axis-title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                        LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT - 6)).append(Html.escape(xTitle)).append("</text>\n")
                .append(fmt("<text class=\"axis-title\" x=\"14\" y=\"%d\" text-anchor=\"middle\" "
                        + "transform=\"rotate(-90 14 %d)\">", TOP + (bottom - TOP) / 2, TOP + (bottom - TOP) / 2))
                .append(Html.escape(yTitle)).append("</text>\n");
    }

    private static double xPos(double value, double max) {
        return LEFT + (WIDTH - LEFT - RIGHT) * value / max;
    }

    private static double yPos(double value, double max) {
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / max;
    }

    /** An axis from 0 to a round maximum, with about five round steps. */
    record Axis(double max, double step) {
        static Axis of(double highest) {
            double raw = highest / 5;
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double normalized = raw / magnitude;
            double step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
            return new Axis(Math.ceil(highest / step - 1e-9) * step, step);
        }

        double[] ticks() {
            int count = (int) Math.round(max / step);
            double[] ticks = new double[count + 1];
            for (int i = 0; i <= count; i++) {
                ticks[i] = i * step;
            }
            return ticks;
        }
    }

    private static String legendItem(String color, String label) {
        return "<li><span class=\"swatch\" style=\"background:" + color + "\"></span>" + Html.escape(label) + "</li>";
    }

    private static void legend(StringBuilder h, String id, List<String> items) {
        h.append("<ul class=\"legend\" id=\"").append(id).append("\">\n");
        items.forEach(item -> h.append(item).append('\n'));
        h.append("</ul>\n");
    }

    // ---- tables ----

    private static void seriesTable(StringBuilder h, RunReport report) {
        h.append("<table id=\"series-table\">\n<tr><th>door</th><th>operation</th><th class=\"n\">succeeded</th>"
                + "<th class=\"n\">refused</th><th class=\"n\">failed</th><th class=\"n\">not run</th>"
                + "<th class=\"n\">per second</th><th class=\"n\">p50 ms</th><th class=\"n\">p90 ms</th>"
                + "<th class=\"n\">p99 ms</th><th class=\"n\">p99.9 ms</th><th class=\"n\">max ms</th></tr>\n");
        for (RunReport.Series s : report.series()) {
            RunReport.Latency l = s.latency();
            h.append("<tr><td>").append(Html.escape(s.door().label())).append("</td><td>")
                    .append(Html.escape(s.operation().label())).append("</td>");
            cell(h, s.count(Outcome.SUCCEEDED), false);
            cell(h, s.count(Outcome.REFUSED), s.count(Outcome.REFUSED) > 0);
            cell(h, s.count(Outcome.FAILED), s.count(Outcome.FAILED) > 0);
            cell(h, s.count(Outcome.NOT_RUN), s.count(Outcome.NOT_RUN) > 0);
            h.append("<td class=\"n\">").append(fmt("%.1f", TextSummary.perSecond(s.count(Outcome.SUCCEEDED),
                    report.elapsedSeconds()))).append("</td>");
            for (double ms : new double[]{l.p50Ms(), l.p90Ms(), l.p99Ms(), l.p999Ms(), l.maxMs()}) {
                h.append("<td class=\"n\">").append(l.count() == 0 ? "-" : fmt("%.1f", ms)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void cell(StringBuilder h, long count, boolean bad) {
        h.append("<td class=\"n").append(bad ? " bad" : "").append("\">").append(count).append("</td>");
    }

    private static void reasonTable(StringBuilder h, RunReport report) {
        boolean any = report.series().stream().anyMatch(s -> !s.refusals().isEmpty() || !s.failures().isEmpty());
        if (!any) {
            h.append("<p id=\"reason-none\">Nothing was refused and nothing failed.</p>\n");
            return;
        }
        h.append("<table id=\"reason-table\">\n<tr><th>door</th><th>operation</th><th>outcome</th><th>reason</th>"
                + "<th class=\"n\">count</th><th>example</th></tr>\n");
        for (RunReport.Series s : report.series()) {
            reasonRows(h, s, "refused", s.refusals());
            reasonRows(h, s, "failed", s.failures());
        }
        h.append("</table>\n");
    }

    private static void reasonRows(StringBuilder h, RunReport.Series s, String outcome, Map<String, Long> counts) {
        counts.forEach((reason, count) -> h.append("<tr><td>").append(Html.escape(s.door().label())).append("</td><td>")
                .append(Html.escape(s.operation().label())).append("</td><td>").append(outcome).append("</td><td>")
                .append(Html.escape(reason)).append("</td><td class=\"n\">").append(count).append("</td><td>")
                .append(Html.escape(s.samples().getOrDefault(reason, ""))).append("</td></tr>\n"));
    }

    private static void faultTable(StringBuilder h, RunReport report) {
        if (report.faults().isEmpty()) {
            h.append("<p id=\"fault-none\">No fault was injected.</p>\n");
            return;
        }
        h.append("<table id=\"fault-table\">\n<tr><th>fault</th><th>detail</th><th class=\"n\">from s</th>"
                + "<th class=\"n\">to s</th><th class=\"n\">failures during</th><th>of which</th><th class=\"n\">recovered</th>"
                + "<th class=\"n\">not recovered</th><th>recovery</th></tr>\n");
        for (RunReport.Fault f : report.faults()) {
            h.append("<tr><td>").append(Html.escape(f.kind())).append("</td><td>").append(Html.escape(f.detail()))
                    .append("</td><td class=\"n\">").append(fmt("%.1f", f.startSecond())).append("</td><td class=\"n\">")
                    .append(f.endSecond() == null ? "end" : fmt("%.1f", f.endSecond())).append("</td>");
            cell(h, f.failuresDuring(), false);
            StringBuilder bySeries = new StringBuilder();
            f.failuresBySeries().forEach((name, count) -> bySeries.append(bySeries.length() == 0 ? "" : ", ")
                    .append(name).append(' ').append(count));
            h.append("<td>").append(Html.escape(bySeries.toString())).append("</td>");
            cell(h, f.recovered(), false);
            cell(h, f.notRecovered(), f.notRecovered() > 0);
            h.append("<td>").append(Html.escape(f.recovery())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void baselineTable(StringBuilder h, RunReport report) {
        RunReport.Baseline b = report.baseline();
        if (b == null) {
            h.append("<p id=\"baseline-none\">This run measured no baseline.</p>\n");
            return;
        }
        RunReport.Latency l = b.latency();
        h.append("<table id=\"baseline-table\">\n<tr><th>baseline</th><th>one operation</th><th class=\"n\">operations</th>"
                + "<th class=\"n\">threads</th><th class=\"n\">per second</th><th class=\"n\">p50 ms</th>"
                + "<th class=\"n\">p99 ms</th><th class=\"n\">max ms</th></tr>\n<tr><td>")
                .append(Html.escape(b.name())).append("</td><td>").append(Html.escape(b.description())).append("</td>");
        cell(h, b.operations(), false);
        cell(h, b.threads(), false);
        h.append("<td class=\"n\">").append(fmt("%.1f", b.perSecond())).append("</td>");
        for (double ms : new double[]{l.p50Ms(), l.p99Ms(), l.maxMs()}) {
            h.append("<td class=\"n\">").append(l.count() == 0 ? "-" : fmt("%.3f", ms)).append("</td>");
        }
        h.append("</tr>\n</table>\n");
    }

    private static void keyValues(StringBuilder h, String id, Map<String, String> values) {
        h.append("<table id=\"").append(id).append("\">\n");
        values.forEach((key, value) -> h.append("<tr><th>").append(Html.escape(key))
                .append("</th><td>").append(Html.escape(value)).append("</td></tr>\n"));
        h.append("</table>\n");
    }

    private static String trim(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
