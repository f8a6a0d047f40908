package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvidenceSourceTest {
    @TempDir
    Path dir;

    private static String sha256Of(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    @Test
    void measurements_are_the_sha256_of_each_file_with_the_configured_claims() throws Exception {
        byte[] firmware = new byte[300_000];
        new Random(1).nextBytes(firmware);
        byte[] config = "server=https://fleetkey.example.com\n".getBytes(StandardCharsets.UTF_8);
        Path fw = Files.write(dir.resolve("firmware.img"), firmware);
        Path conf = Files.write(dir.resolve("agent.conf"), config);
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);

        Evidence evidence = new EvidenceSource("M-100", "acme-meter-fw", "2.4.1", DebugStatus.DISABLED_PERMANENTLY,
                List.of(new EvidenceSource.MeasuredFile("firmware", fw), new EvidenceSource.MeasuredFile("config", conf),
                        new EvidenceSource.MeasuredFile("empty", empty))).collect();

        assertThat(evidence.hwModel()).isEqualTo("M-100");
        assertThat(evidence.swName()).isEqualTo("acme-meter-fw");
        assertThat(evidence.swVersion()).isEqualTo("2.4.1");
        assertThat(evidence.debug()).isEqualTo(DebugStatus.DISABLED_PERMANENTLY);
        assertThat(evidence.measurements()).containsExactly(
                new Evidence.Measurement("firmware", sha256Of(firmware)),
                new Evidence.Measurement("config", sha256Of(config)),
                new Evidence.Measurement("empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

    @Test
    void every_collect_measures_the_files_again() throws Exception {
        Path fw = Files.writeString(dir.resolve("firmware.img"), "2.4.1");
        EvidenceSource source = new EvidenceSource(null, null, null, null,
                List.of(new EvidenceSource.MeasuredFile("firmware", fw)));
        String before = source.collect().measurements().get(0).sha256();

        Files.writeString(fw, "2.4.2");

        assertThat(source.collect().measurements().get(0).sha256()).isNotEqualTo(before)
                .isEqualTo(sha256Of("2.4.2".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void a_50_mb_firmware_image_is_hashed_by_streaming() throws Exception {
        Path image = dir.resolve("firmware.img");
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1024 * 1024];
        Random random = new Random(50);
        try (OutputStream out = Files.newOutputStream(image)) {
            for (int i = 0; i < 50; i++) {
                random.nextBytes(block);
                expected.update(block);
                out.write(block);
            }
        }
        assertThat(Files.size(image)).isEqualTo(50L * 1024 * 1024);

        assertThat(EvidenceSource.sha256(image)).isEqualTo(HexFormat.of().formatHex(expected.digest()));
    }

    @Test
    void a_50_mb_firmware_image_is_measured_in_a_16_mb_heap() throws Exception {
        Path image = dir.resolve("firmware.img");
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1024 * 1024];
        Random random = new Random(16);
        try (OutputStream out = Files.newOutputStream(image)) {
            for (int i = 0; i < 50; i++) {
                random.nextBytes(block);
                expected.update(block);
                out.write(block);
            }
        }
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // A heap smaller than the image: reading it whole would fail with OutOfMemoryError.
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx16m", "-XX:+UseSerialGC", "-cp", classPath, MeasureInSmallHeap.class.getName(), image.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output.trim()).isEqualTo(HexFormat.of().formatHex(expected.digest()));
    }

    /** Measures the file named by the first argument with {@link EvidenceSource} and prints its digest. */
    static final class MeasureInSmallHeap {
        public static void main(String[] args) throws IOException {
            Evidence evidence = new EvidenceSource(null, null, null, null,
                    List.of(new EvidenceSource.MeasuredFile("firmware", Path.of(args[0])))).collect();
            System.out.println(evidence.measurements().get(0).sha256());
        }
    }

    @Test
    void a_missing_file_is_named_with_its_component() {
        Path absent = dir.resolve("boot").resolve("firmware.img");
        EvidenceSource source = new EvidenceSource("M-100", null, null, null,
                List.of(new EvidenceSource.MeasuredFile("firmware", absent)));

        assertThatThrownBy(source::collect).isInstanceOf(IOException.class)
                .hasMessageContaining("'firmware'").hasMessageContaining(absent.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void a_directory_is_not_a_measured_file() {
        EvidenceSource source = new EvidenceSource(null, null, null, null,
                List.of(new EvidenceSource.MeasuredFile("firmware", dir)));

        assertThatThrownBy(source::collect).isInstanceOf(IOException.class)
                .hasMessageContaining("'firmware'").hasMessageContaining("is a directory");
    }

    @Test
    void settings_name_the_model_version_debug_state_and_measured_files() throws Exception {
        Path fw = Files.writeString(dir.resolve("firmware.img"), "fw");
        Path jar = Files.writeString(dir.resolve("fleetkey-agent.jar"), "jar");

        EvidenceSource source = EvidenceSource.fromSettings(Map.of(
                EvidenceSource.MODEL, "M-100",
                EvidenceSource.SOFTWARE_NAME, "acme-meter-fw",
                EvidenceSource.SOFTWARE_VERSION, "2.4.1",
                EvidenceSource.DEBUG, "disabled-since-boot",
                EvidenceSource.MEASURE, "firmware=" + fw + ", agent.jar=" + jar));
        Evidence evidence = source.collect();

        assertThat(source.measuredFiles()).extracting(EvidenceSource.MeasuredFile::component)
                .containsExactly("firmware", "agent.jar");
        assertThat(evidence.debug()).isEqualTo(DebugStatus.DISABLED_SINCE_BOOT);
        assertThat(evidence.measurements().get(1).sha256()).isEqualTo(sha256Of("jar".getBytes(StandardCharsets.US_ASCII)));
        assertThat(EvidenceSource.fromSettings(Map.of()).collect().isEmpty()).isTrue();
    }

    @Test
    void bad_settings_say_what_to_change() {
        assertThatThrownBy(() -> EvidenceSource.fromSettings(Map.of(EvidenceSource.DEBUG, "off")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attestation.debug 'off'");
        assertThatThrownBy(() -> EvidenceSource.fromSettings(Map.of(EvidenceSource.MEASURE, "/boot/firmware.img")))
                .hasMessageContaining("name=path");
        assertThatThrownBy(() -> EvidenceSource.fromSettings(Map.of(EvidenceSource.MEASURE, "fw image=/boot/fw.img")))
                .hasMessageContaining("'fw image'");
        assertThatThrownBy(() -> EvidenceSource.fromSettings(Map.of(EvidenceSource.MEASURE, "fw=/a,fw=/b")))
                .hasMessageContaining("'fw' twice");
        assertThatThrownBy(() -> EvidenceSource.fromSettings(Map.of(EvidenceSource.MODEL, "m".repeat(33))))
                .hasMessageContaining("attestation.model");
        assertThatThrownBy(() -> new EvidenceSource(null, null, null, null, java.util.stream.IntStream.range(0, 17)
                .mapToObj(i -> new EvidenceSource.MeasuredFile("c" + i, Path.of("/c" + i))).toList()))
                .hasMessageContaining("at most 16");
    }
}
