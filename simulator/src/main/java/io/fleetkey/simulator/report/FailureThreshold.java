package io.fleetkey.simulator.report;

import java.util.Locale;

/**
 * How many unsuccessful operations (refused, failed or not run) a run may have before it exits
 * non-zero: a count ({@code 0}, {@code 25}) or a share of all operations ({@code 0.5%}).
 */
public record FailureThreshold(long count, double percent, boolean isShare) {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURES = 1;
    /** Any unsuccessful operation fails the run. */
    public static final FailureThreshold NONE = new FailureThreshold(0, 0, false);

    /** {@code 10} allows ten; {@code 2.5%} allows 2.5 % of the operations. */
    public static FailureThreshold parse(String text) {
        String t = text.trim();
        try {
            if (t.endsWith("%")) {
                double percent = Double.parseDouble(t.substring(0, t.length() - 1).trim());
                if (percent >= 0 && percent <= 100) {
                    return new FailureThreshold(0, percent, true);
                }
            } else {
                long count = Long.parseLong(t);
                if (count >= 0) {
                    return new FailureThreshold(count, 0, false);
                }
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("'" + text + "' is not a failure threshold; use a count such as 0 or 25, "
                + "or a share of the operations such as 0.5%");
    }

    public boolean exceededBy(long unsuccessful, long operations) {
        return isShare ? unsuccessful * 100.0 > percent * operations : unsuccessful > count;
    }

    public boolean exceededBy(RunReport report) {
        return exceededBy(report.totalUnsuccessful(), report.totalOperations());
    }

    /** {@link #EXIT_FAILURES} when the run's unsuccessful operations exceed the threshold, else {@link #EXIT_OK}. */
    public int exitStatus(RunReport report) {
        return exceededBy(report) ? EXIT_FAILURES : EXIT_OK;
    }

    @Override
    public String toString() {
        return isShare ? String.format(Locale.ROOT, "%s%%", stripZeros(percent)) : Long.toString(count);
    }

    private static String stripZeros(double value) {
        return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}
