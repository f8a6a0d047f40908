package io.fleetkey.server.util;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * At most a fixed number of admissions per clock minute, lock-free. What anyone can trigger
 * without credentials (a denied API call, a malformed OCSP request) is written to the audit log
 * only within such a budget, so a flood cannot fill the registry.
 */
public final class MinuteBudget {
    private final int perMinute;
    private final Clock clock;
    private final AtomicLong minute = new AtomicLong();
    private final AtomicInteger count = new AtomicInteger();

    public MinuteBudget(int perMinute, Clock clock) {
        this.perMinute = perMinute;
        this.clock = clock;
    }

    /** True while this minute's budget lasts. */
    public boolean admit() {
        long now = clock.millis() / 60_000;
        long seen = minute.get();
        if (seen != now && minute.compareAndSet(seen, now)) {
            count.set(0);
        }
        return count.incrementAndGet() <= perMinute;
    }
}
