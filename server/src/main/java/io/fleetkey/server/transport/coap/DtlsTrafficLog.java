package io.fleetkey.server.transport.coap;

import java.util.concurrent.atomic.AtomicLong;

import io.fleetkey.server.enrollment.RejectedTraffic;
import org.eclipse.californium.scandium.DtlsHealth;

/**
 * Counts what Scandium drops silently (datagrams that are not DTLS records for a session, e.g.
 * plain CoAP or garbage sent to the coaps port, and failed handshakes) and reports it on the
 * rate-limited rejected-traffic log, at most once every ten seconds.
 */
final class DtlsTrafficLog implements DtlsHealth {
    private static final long REPORT_EVERY_MILLIS = 10_000;

    private final AtomicLong droppedRecords = new AtomicLong();
    private final AtomicLong failedHandshakes = new AtomicLong();
    private final AtomicLong lastReport = new AtomicLong();

    @Override
    public void receivingRecord(boolean dropped) {
        if (dropped) {
            droppedRecords.incrementAndGet();
            report();
        }
    }

    @Override
    public void endHandshake(boolean success) {
        if (!success) {
            failedHandshakes.incrementAndGet();
            report();
        }
    }

    @Override
    public void startHandshake() {
    }

    @Override
    public void sendingRecord(boolean dropped) {
    }

    @Override
    public void dump(String tag, int maxConnections, int remainingCapacity, int pendingWithoutVerify) {
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    long droppedRecords() {
        return droppedRecords.get();
    }

    private void report() {
        long now = System.currentTimeMillis();
        long last = lastReport.get();
        if (now - last >= REPORT_EVERY_MILLIS && lastReport.compareAndSet(last, now)) {
            RejectedTraffic.log("EST-coaps", "so far " + droppedRecords.get() + " datagrams were dropped as not valid "
                    + "DTLS for this server, and " + failedHandshakes.get() + " handshakes failed");
        }
    }
}
