package io.fleetkey.simulator.factory;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;

import io.fleetkey.agent.Arguments.UsageException;

/**
 * How long a certificate lives: whole years ({@code 20y}), days ({@code 30d}), or
 * {@code forever}, the IEEE 802.1AR §8.5 "no well-defined expiration date" value
 * 99991231235959Z for identities that must outlive any clock on the device.
 */
record Validity(int years, int days, boolean forever) {
    /** GeneralizedTime 99991231235959Z. */
    static final Instant FOREVER = Instant.parse("9999-12-31T23:59:59Z");
    private static final int MAX_YEARS = 100;
    private static final int MAX_DAYS = 36_500;

    static Validity parse(String option, String text, boolean foreverAllowed) throws UsageException {
        String value = text.trim().toLowerCase(Locale.ROOT);
        if (value.equals("forever")) {
            if (!foreverAllowed) {
                throw new UsageException(option + " cannot be 'forever' here; give years or days such as 30d");
            }
            return new Validity(0, 0, true);
        }
        if (value.length() >= 2 && (value.endsWith("y") || value.endsWith("d"))) {
            try {
                int amount = Integer.parseInt(value.substring(0, value.length() - 1));
                boolean years = value.endsWith("y");
                if (amount >= 1 && amount <= (years ? MAX_YEARS : MAX_DAYS)) {
                    return years ? new Validity(amount, 0, false) : new Validity(0, amount, false);
                }
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
        }
        throw new UsageException(option + " needs years or days such as 20y or 30d (at most " + MAX_YEARS
                + " years)" + (foreverAllowed ? ", or 'forever' (99991231235959Z)" : "") + "; got '" + text + "'");
    }

    /** The end of a validity that starts at {@code from}. */
    Instant notAfter(Instant from) {
        if (forever) {
            return FOREVER;
        }
        ZonedDateTime start = from.atZone(ZoneOffset.UTC);
        Instant end = (years > 0 ? start.plusYears(years) : start.plusDays(days)).toInstant();
        return end.isAfter(FOREVER) ? FOREVER : end;
    }

    @Override
    public String toString() {
        return forever ? "forever" : years > 0 ? years + "y" : days + "d";
    }
}
