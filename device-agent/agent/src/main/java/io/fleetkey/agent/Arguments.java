package io.fleetkey.agent;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Options of a command line: {@code --name value}, {@code --name=value} and {@code --flag}.
 * Every option is known in advance; anything else is a {@link UsageException} that says
 * what was wrong. Shared by the agent's and the simulator's command lines.
 */
public final class Arguments {
    private final Map<String, String> values;
    private final Set<String> flags;

    private Arguments(Map<String, String> values, Set<String> flags) {
        this.values = values;
        this.flags = flags;
    }

    /** A mistake on the command line; the message says what to change. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }
    }

    /**
     * @param args       the arguments after the command name
     * @param withValue  option names that take a value, each with its leading {@code --}
     * @param flagNames  option names that take none
     */
    public static Arguments parse(List<String> args, Set<String> withValue, Set<String> flagNames)
            throws UsageException {
        Map<String, String> values = new HashMap<>();
        Set<String> flags = new HashSet<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException("unexpected argument '" + arg + "'; options look like --name value");
            }
            int equals = arg.indexOf('=');
            String name = equals < 0 ? arg : arg.substring(0, equals);
            if (flagNames.contains(name)) {
                if (equals >= 0) {
                    throw new UsageException("option " + name + " takes no value");
                }
                flags.add(name);
                continue;
            }
            if (!withValue.contains(name)) {
                throw new UsageException("unknown option " + name + knownOptions(withValue, flagNames));
            }
            String value;
            if (equals >= 0) {
                value = arg.substring(equals + 1);
            } else if (i + 1 < args.size() && !withValue.contains(args.get(i + 1)) && !flagNames.contains(args.get(i + 1))) {
                value = args.get(++i);
            } else {
                throw new UsageException("option " + name + " needs a value");
            }
            if (value.isEmpty()) {
                throw new UsageException("option " + name + " needs a non-empty value");
            }
            if (values.putIfAbsent(name, value) != null) {
                throw new UsageException("option " + name + " is given more than once");
            }
        }
        return new Arguments(values, flags);
    }

    public Optional<String> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public String required(String name) throws UsageException {
        String value = values.get(name);
        if (value == null) {
            throw new UsageException("option " + name + " is required");
        }
        return value;
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }

    /** An integer option within [min, max], or the default when absent. */
    public int intValue(String name, int defaultValue, int min, int max) throws UsageException {
        String value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + " needs a whole number; got '" + value + "'");
        }
        if (parsed < min || parsed > max) {
            throw new UsageException("option " + name + " must be between " + min + " and " + max + "; got " + parsed);
        }
        return parsed;
    }

    /**
     * A duration option such as {@code 90s}, {@code 10m}, {@code 1h}, or plain seconds, up to
     * {@code max}; the default when absent.
     */
    public Duration durationValue(String name, Duration defaultValue, Duration max) throws UsageException {
        String value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        String text = value.trim().toLowerCase(Locale.ROOT);
        long unitSeconds = 1;
        boolean millis = text.endsWith("ms");
        if (millis) {
            text = text.substring(0, text.length() - 2);
        } else if (text.endsWith("s")) {
            text = text.substring(0, text.length() - 1);
        } else if (text.endsWith("m")) {
            unitSeconds = 60;
            text = text.substring(0, text.length() - 1);
        } else if (text.endsWith("h")) {
            unitSeconds = 3600;
            text = text.substring(0, text.length() - 1);
        }
        Duration parsed;
        try {
            parsed = millis ? Duration.ofMillis(Long.parseLong(text))
                    : Duration.ofSeconds(Math.multiplyExact(Long.parseLong(text), unitSeconds));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("option " + name + " needs a duration such as 250ms, 90s, 10m or 1h; got '"
                    + value + "'");
        }
        if (parsed.isZero() || parsed.isNegative() || parsed.compareTo(max) > 0) {
            String most = max.toSeconds() < 60 ? max.toSeconds() + " seconds" : max.toMinutes() + " minutes";
            throw new UsageException("option " + name + " must be more than 0 and at most " + most + "; got '"
                    + value + "'");
        }
        return parsed;
    }

    private static String knownOptions(Set<String> withValue, Set<String> flagNames) {
        Set<String> all = new java.util.TreeSet<>(withValue);
        all.addAll(flagNames);
        return all.isEmpty() ? "" : "; known options: " + String.join(", ", all);
    }
}
