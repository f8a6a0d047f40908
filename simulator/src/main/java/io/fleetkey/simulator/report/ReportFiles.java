package io.fleetkey.simulator.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Writes a run's report into a folder: {@value #JSON}, {@value #HTML} and {@value #TEXT}. */
public final class ReportFiles {
    public static final String JSON = "report.json";
    public static final String HTML = "report.html";
    public static final String TEXT = "report.txt";

    private ReportFiles() {
    }

    /** Creates the folder if needed and replaces the three files at once each; returns their paths. */
    public static List<Path> write(Path dir, RunReport report) throws IOException {
        Files.createDirectories(dir);
        Path json = dir.resolve(JSON);
        Path html = dir.resolve(HTML);
        Path text = dir.resolve(TEXT);
        replace(json, ReportJson.write(report).getBytes(StandardCharsets.UTF_8));
        replace(html, HtmlReport.render(report).getBytes(StandardCharsets.UTF_8));
        replace(text, TextSummary.format(report).getBytes(StandardCharsets.UTF_8));
        return List.of(json, html, text);
    }

    /** A reader (a browser refreshing the page) sees the old file or the new one, never half of one. */
    private static void replace(Path file, byte[] content) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".new");
        Files.write(temporary, content);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
