package io.fleetkey.server.bench;

/**
 * Runs the server's JMH benchmarks from the test classpath; see {@code docs/benchmarks.md}.
 * Arguments are JMH's own ({@code -h} lists them). Without a benchmark pattern JMH runs every
 * benchmark of this module: the issuance core and the raw ECDSA yardstick, in one run.
 */
public final class BenchmarkMain {
    private BenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(args);
    }
}
