package io.fleetkey.server.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs the server's JMH benchmarks from the test classpath; see {@code docs/benchmarks.md}.
 * Arguments are JMH's own ({@code -h} lists them). Without a benchmark pattern it runs every
 * benchmark in this package: the issuance core and the raw ECDSA yardstick, in one run.
 */
public final class BenchmarkMain {
    private BenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        List<String> jmhArgs = new ArrayList<>(List.of(args));
        if (!hasPattern(args)) {
            jmhArgs.add(BenchmarkMain.class.getPackageName().replace(".", "\\.") + "\\..*");
        }
        org.openjdk.jmh.Main.main(jmhArgs.toArray(String[]::new));
    }

    /** Whether the arguments already name benchmarks: a word that is neither an option nor its value. */
    private static boolean hasPattern(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-")) {
                if (takesValue(a)) {
                    i++;
                }
            } else {
                return true;
            }
        }
        return false;
    }

    private static boolean takesValue(String option) {
        return switch (option) {
            case "-h", "-l", "-lp", "-lprof", "-lrf", "-v" -> option.equals("-v");
            default -> option.length() > 1 && !option.contains("=");
        };
    }
}
