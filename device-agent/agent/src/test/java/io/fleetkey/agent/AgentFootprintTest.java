package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent must fit a small device: enroll and renew in a JVM with a 32 MB heap. */
class AgentFootprintTest {
    @TempDir
    Path tmp;

    @Test
    void enroll_and_renew_run_in_a_32_mb_heap() throws Exception {
        TestPki pki = new TestPki("Small");
        try (FakeEstServer server = new FakeEstServer(pki).register("pi-1", "tok-small")) {
            Path caFile = tmp.resolve("chain.pem");
            KeyFiles.writeCertificates(caFile, pki.caCertificates());
            String dir = tmp.resolve("identity").toString();

            assertThat(agent(List.of("enroll", "--server", server.uri().toString(), "--ca-cert", caFile.toString(),
                    "--device-id", "pi-1", "--dir", dir))).contains("Enrolled device 'pi-1'");
            assertThat(agent(List.of("renew", "--server", server.uri().toString(), "--ca-cert", caFile.toString(),
                    "--dir", dir))).contains("Renewed device 'pi-1'");
        }
    }

    private static String agent(List<String> args) throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:+UseSerialGC", "-cp", classPath, AgentCli.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put(AgentCli.TOKEN_ENV, "tok-small");
        Process process = builder.start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = new String(output, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(text).isZero();
        return text;
    }
}
