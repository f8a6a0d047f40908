package io.fleetkey.server.enrollment;

import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refused requests and handshakes go to their own logger ({@code io.fleetkey.rejected}), at
 * most {@value #PER_SECOND} lines a second, so a flood of bad traffic cannot flood the log.
 * Never logs tokens, keys or CSR bytes.
 */
public final class RejectedTraffic {
    static final int PER_SECOND = 20;
    private static final Logger LOG = LoggerFactory.getLogger("io.fleetkey.rejected");
    private static final AtomicLong WINDOW = new AtomicLong();
    private static final AtomicLong COUNT = new AtomicLong();
    private static final AtomicLong DROPPED = new AtomicLong();

    private RejectedTraffic() {
    }

    static void log(String deviceId, EnrollmentResult.Refused refused) {
        if (admit()) {
            LOG.info("Refused {} for device {}: {}", refused.code(), deviceId == null ? "?" : deviceId, refused.reason());
        }
    }

    /** A refusal below the enrollment core, e.g. a DTLS handshake or datagrams a door dropped. */
    public static void log(String door, String what) {
        if (admit()) {
            LOG.info("{}: {}", door, what);
        }
    }

    private static boolean admit() {
        long second = System.currentTimeMillis() / 1000;
        long window = WINDOW.get();
        if (window != second && WINDOW.compareAndSet(window, second)) {
            COUNT.set(0);
            long dropped = DROPPED.getAndSet(0);
            if (dropped > 0) {
                LOG.warn("{} refused requests were not logged in the last second(s)", dropped);
            }
        }
        if (COUNT.incrementAndGet() <= PER_SECOND) {
            return true;
        }
        DROPPED.incrementAndGet();
        return false;
    }
}
