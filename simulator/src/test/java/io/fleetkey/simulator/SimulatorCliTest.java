package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SimulatorCliTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final SimulatorCli cli = new SimulatorCli(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());

    @Test
    void the_usage_names_the_storm_and_the_factory() {
        assertThat(cli.run(new String[]{"--help"})).isEqualTo(SimulatorCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("enroll-storm", "factory", "--report-dir DIR",
                "--max-failures T");
    }

    @Test
    void factory_help_is_the_factory_usage() {
        assertThat(cli.run(new String[]{"factory", "init", "--help"})).isEqualTo(SimulatorCli.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("fleetkey-simulator factory <command>", "register");
    }

    @Test
    void a_wrong_failure_threshold_or_report_folder_is_a_usage_error_before_anything_runs() throws Exception {
        assertThat(cli.run(new String[]{"enroll-storm", "--max-failures", "ten"})).isEqualTo(SimulatorCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--max-failures 'ten' is not a failure threshold");
        java.nio.file.Path file = java.nio.file.Files.createTempFile("report", ".txt");
        try {
            assertThat(cli.run(new String[]{"enroll-storm", "--report-dir", file.toString()})).isEqualTo(SimulatorCli.USAGE);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("is a file, not a folder");
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void an_unknown_scenario_names_the_known_ones() {
        assertThat(cli.run(new String[]{"stampede"})).isEqualTo(SimulatorCli.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("use storm, enroll-storm or factory");
    }

    @Test
    void storm_options_are_checked_before_anything_runs() throws Exception {
        java.nio.file.Path chain = java.nio.file.Files.createTempFile("chain", ".pem");
        java.nio.file.Files.writeString(chain, selfSignedPem());
        try {
            String[] common = {"storm", "--server", "https://localhost:8443", "--ca-cert", chain.toString(),
                "--admin-token", "t", "--devices", "10", "--concurrency", "2"};
            assertThat(run(common, "--doors", "https,telnet")).contains("--doors unknown door 'telnet'");
            assertThat(run(common, "--doors", "coap")).contains("uses CoAP but no address for it was given (--coap)");
            assertThat(run(common, "--doors", "mqtt", "--mqtt", "ssl://192.0.2.7:8883"))
                    .contains("--mqtt 192.0.2.7 is not this machine");
            assertThat(run(common, "--coap", "https://localhost:5684")).contains("--coap must be a coaps URI");
            assertThat(run(common, "--revoke", "150%")).contains("--revoke must be more than 0% and at most 100%");
            assertThat(run(common, "--revoke", "some")).contains("--revoke 'some' is not a share");
        } finally {
            java.nio.file.Files.delete(chain);
        }
    }

    private static String selfSignedPem() throws Exception {
        java.security.KeyPair keys = io.fleetkey.agent.KeyFiles.generateKeyPair();
        org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=Test CA");
        java.util.Date now = new java.util.Date();
        var holder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE, now,
                new java.util.Date(now.getTime() + 86_400_000L), name, keys.getPublic())
                .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(keys.getPrivate()));
        return "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(holder.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private String run(String[] common, String... more) {
        err.reset();
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.Arrays.stream(more))
                .toArray(String[]::new);
        assertThat(cli.run(args)).isEqualTo(SimulatorCli.USAGE);
        return err.toString(StandardCharsets.UTF_8);
    }
}
