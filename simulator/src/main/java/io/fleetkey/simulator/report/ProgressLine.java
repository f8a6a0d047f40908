package io.fleetkey.simulator.report;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The live progress of a run on one line: operations done of the expected total, how many did
 * not succeed, the rate and the time left. On a terminal the line is redrawn in place with
 * {@code \r}; elsewhere (a CI log, a pipe) it is printed as a plain line at a slower pace.
 */
public final class ProgressLine implements AutoCloseable {
    public static final Duration TERMINAL_INTERVAL = Duration.ofMillis(500);
    public static final Duration LOG_INTERVAL = Duration.ofSeconds(5);

    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final Supplier<RunRecorder.Progress> source;
    private final ScheduledExecutorService timer;
    private int lastLength;

    private ProgressLine(PrintStream out, boolean terminal, long total, Supplier<RunRecorder.Progress> source,
                         Duration interval) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.source = source;
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "progress");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleAtFixedRate(this::print, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Starts printing the progress of {@code total} operations.
     *
     * @param terminal whether {@code out} is a terminal; {@link #isTerminal()} tells for the process's standard output
     */
    public static ProgressLine start(PrintStream out, boolean terminal, long total, Supplier<RunRecorder.Progress> source) {
        return new ProgressLine(out, terminal, total, source, terminal ? TERMINAL_INTERVAL : LOG_INTERVAL);
    }

    /** Starts with a chosen interval, e.g. a short one in tests. */
    public static ProgressLine start(PrintStream out, boolean terminal, long total, Supplier<RunRecorder.Progress> source,
                                     Duration interval) {
        return new ProgressLine(out, terminal, total, source, interval);
    }

    /** Whether standard input and output are an interactive terminal (not redirected, not CI). */
    public static boolean isTerminal() {
        return System.console() != null;
    }

    /** "12s  4210/10000 done  37 failed  352/s  ETA 16s". */
    public static String format(RunRecorder.Progress progress, long total) {
        double rate = progress.elapsedSeconds() <= 0 ? 0 : progress.done() / progress.elapsedSeconds();
        long left = Math.max(0, total - progress.done());
        String eta = left == 0 ? "0s" : rate <= 0 ? "--" : duration(Math.round(left / rate));
        return String.format(Locale.ROOT, "%s  %d/%d done  %d failed  %.0f/s  ETA %s",
                duration(Math.round(progress.elapsedSeconds())), progress.done(), total, progress.unsuccessful(), rate, eta);
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
    }

    private synchronized void print() {
        String line = format(source.get(), total);
        if (terminal) {
            // Pads over the rest of a longer earlier line.
            out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
            lastLength = line.length();
        } else {
            out.println("  " + line);
        }
        out.flush();
    }

    /** Stops and prints the last state, ending the line on a terminal. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        print();
        if (terminal) {
            out.println();
        }
    }
}
