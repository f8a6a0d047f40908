package io.fleetkey.simulator.report;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Counts per second of a run, lock-free: the seconds come in blocks allocated the first time
 * one of their seconds is counted, so a run of unknown length costs only what it used.
 * Seconds past {@link #MAX_SECONDS} are counted in the last one.
 */
final class PerSecondCounts {
    static final int MAX_SECONDS = 48 * 3600;
    private static final int BLOCK = 64;

    private final AtomicReferenceArray<AtomicLongArray> blocks = new AtomicReferenceArray<>(MAX_SECONDS / BLOCK + 1);

    void increment(long second) {
        int s = clamp(second);
        AtomicLongArray block = blocks.get(s / BLOCK);
        if (block == null) {
            blocks.compareAndSet(s / BLOCK, null, new AtomicLongArray(BLOCK));
            block = blocks.get(s / BLOCK);
        }
        block.incrementAndGet(s % BLOCK);
    }

    long get(long second) {
        int s = clamp(second);
        AtomicLongArray block = blocks.get(s / BLOCK);
        return block == null ? 0 : block.get(s % BLOCK);
    }

    /** The first {@code seconds} counts. */
    List<Long> toList(int seconds) {
        List<Long> counts = new ArrayList<>(seconds);
        for (int s = 0; s < seconds; s++) {
            counts.add(get(s));
        }
        return counts;
    }

    private static int clamp(long second) {
        return (int) Math.max(0, Math.min(MAX_SECONDS - 1, second));
    }
}
