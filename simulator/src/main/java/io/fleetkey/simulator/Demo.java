package io.fleetkey.simulator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

import io.fleetkey.simulator.report.ReportFiles;
import io.fleetkey.simulator.report.RunReport;
import io.fleetkey.simulator.report.TextSummary;

/**
 * {@code fleetkey-simulator demo}: a first look in one command. Starts a Fleetkey server inside
 * this process ({@link InProcessServer}), then a small fleet: every device enrolls on its door,
 * renews, and one device per door is revoked and shown to be turned away. Ends with the report.
 */
final class Demo {
    static final int DEVICES = 30;

    private final PrintStream out;

    Demo(PrintStream out) {
        this.out = out;
    }

    /** Runs the demo; the report goes to {@code reportDir}. */
    RunReport run(Path serverJar, Path reportDir) throws Exception {
        out.println("Starting a Fleetkey server in this process from " + serverJar + "...");
        long start = System.nanoTime();
        try (InProcessServer server = InProcessServer.start(serverJar)) {
            FleetStorm.Doors doors = server.doors();
            out.printf(Locale.ROOT, "Server up in %.1f s (data in %s): HTTPS %s, CoAP %s, MQTT %s%n",
                    (System.nanoTime() - start) / 1e9, server.data(), doors.https(), doors.coaps(), doors.mqtt());
            FleetStorm.Settings storm = new FleetStorm.Settings(doors, server.anchors(), server.adminToken(), DEVICES, 6,
                    DoorMix.parse("https=1,coap=1,mqtt=1"), 0, true, 0, 3.0 / DEVICES, "demo", Duration.ofMinutes(5),
                    Duration.ZERO, null);
            out.printf("%d devices, a third on each door: first boot with one-time tokens, a renewal each, then one "
                    + "device per door revoked%n", DEVICES);
            RunReport report = new FleetStorm(storm, out, false, true).run();
            out.print(TextSummary.format(report));
            out.println("Report written to " + ReportFiles.write(reportDir, report) + "; open report.html in a browser");
            out.println("Stopping the server; its data stays in " + server.data());
            return report;
        }
    }
}
