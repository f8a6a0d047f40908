package io.fleetkey.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;

/**
 * What the device says about itself in its statement (docs/attestation.md, "The evidence"): its
 * hardware model, software name and version, debug state, and the SHA-256 of each configured
 * file (its measured components). The digests are computed at every {@link #collect()}, so a
 * statement always shows what is on the device now.
 *
 * <p>Files are read in small blocks: a firmware image of any size is hashed in a heap of a few
 * megabytes. Immutable and thread-safe.
 */
public final class EvidenceSource {
    /** Setting: the hardware model, reported as {@code hwmodel} (1 to 32 printable ASCII characters). */
    public static final String MODEL = "attestation.model";
    /** Setting: the firmware's name, reported as {@code swname}. */
    public static final String SOFTWARE_NAME = "attestation.software-name";
    /** Setting: the firmware's version, reported as {@code swversion}. */
    public static final String SOFTWARE_VERSION = "attestation.software-version";
    /** Setting: the debug state, reported as {@code dbgstat}: {@code enabled}, {@code disabled}, ... */
    public static final String DEBUG = "attestation.debug";
    /** Setting: measured files, {@code name=path} separated by commas. */
    public static final String MEASURE = "attestation.measure";

    private static final int BLOCK = 64 * 1024;
    private static final int MAX_TEXT = 64;
    private static final int MAX_MODEL_BYTES = 32;

    private final String model;
    private final String softwareName;
    private final String softwareVersion;
    private final DebugStatus debug;
    private final List<MeasuredFile> measured;

    /**
     * A measured component: the name reference values are keyed by ({@code firmware},
     * {@code agent.jar}, {@code config}) and the file whose content is measured.
     */
    public record MeasuredFile(String component, Path file) {
        public MeasuredFile {
            if (component == null || !Evidence.COMPONENT_NAME.matcher(component).matches()) {
                throw new IllegalArgumentException("the measured component '" + component + "' needs a name of 1 to 64 "
                        + "characters from A-Z a-z 0-9 . _ : / + -");
            }
            Objects.requireNonNull(file, "file");
        }

        /** Reads {@code name=path}, e.g. {@code firmware=/boot/firmware.img}. */
        public static MeasuredFile parse(String spec) {
            int equals = spec.indexOf('=');
            if (equals <= 0 || equals == spec.length() - 1) {
                throw new IllegalArgumentException("a measured file is written name=path (firmware=/boot/firmware.img), not '"
                        + spec + "'");
            }
            return new MeasuredFile(spec.substring(0, equals).trim(), Path.of(spec.substring(equals + 1).trim()));
        }
    }

    /**
     * @param model           hardware model, or null to report none
     * @param softwareName    firmware name, or null
     * @param softwareVersion firmware version (dotted numbers, e.g. {@code 2.4.1}), or null
     * @param debug           debug state, or null to report none
     * @param measured        the files to measure, at most {@value DeviceStatement#MAX_MEASUREMENTS}, names unique
     * @throws IllegalArgumentException saying which value to change
     */
    public EvidenceSource(String model, String softwareName, String softwareVersion, DebugStatus debug,
                          List<MeasuredFile> measured) {
        this.model = model == null ? null : model(model);
        this.softwareName = softwareName == null ? null : printable(softwareName, SOFTWARE_NAME);
        this.softwareVersion = softwareVersion == null ? null : printable(softwareVersion, SOFTWARE_VERSION);
        this.debug = debug;
        this.measured = List.copyOf(measured);
        if (this.measured.size() > DeviceStatement.MAX_MEASUREMENTS) {
            throw new IllegalArgumentException(MEASURE + " names " + this.measured.size() + " files; a statement carries at most "
                    + DeviceStatement.MAX_MEASUREMENTS);
        }
        Set<String> names = new HashSet<>();
        for (MeasuredFile m : this.measured) {
            if (!names.add(m.component())) {
                throw new IllegalArgumentException(MEASURE + " names the component '" + m.component() + "' twice");
            }
        }
    }

    /**
     * Reads the {@code attestation.*} settings (a properties file, or environment variables mapped
     * to these names). Missing settings report nothing; {@value #MEASURE} is
     * {@code name=path,name=path}.
     *
     * @throws IllegalArgumentException naming the setting that is wrong and how to write it
     */
    public static EvidenceSource fromSettings(Map<String, String> settings) {
        String debugText = blankToNull(settings.get(DEBUG));
        List<MeasuredFile> files = new ArrayList<>();
        String measure = blankToNull(settings.get(MEASURE));
        if (measure != null) {
            for (String spec : measure.split(",")) {
                if (!spec.isBlank()) {
                    files.add(MeasuredFile.parse(spec.trim()));
                }
            }
        }
        return new EvidenceSource(blankToNull(settings.get(MODEL)), blankToNull(settings.get(SOFTWARE_NAME)),
                blankToNull(settings.get(SOFTWARE_VERSION)), debugText == null ? null : debugStatus(debugText), files);
    }

    /** Reads a debug state by its RFC 9711 name: {@code enabled}, {@code disabled}, {@code disabled-since-boot}, ... */
    public static DebugStatus debugStatus(String text) {
        try {
            return DebugStatus.fromClaim(text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DEBUG + " '" + text + "' is not a debug state: " + e.getMessage(), e);
        }
    }

    /** The files this source measures, in statement order. */
    public List<MeasuredFile> measuredFiles() {
        return measured;
    }

    /**
     * The evidence as the device is now: the configured claims and a fresh SHA-256 of every
     * measured file.
     *
     * @throws IOException naming the component and the path of a file that is missing or unreadable
     */
    public Evidence collect() throws IOException {
        List<Evidence.Measurement> measurements = new ArrayList<>(measured.size());
        for (MeasuredFile m : measured) {
            measurements.add(new Evidence.Measurement(m.component(), sha256(m)));
        }
        return new Evidence(model, softwareName, softwareVersion, debug, measurements);
    }

    /**
     * The SHA-256 of a file, lower-case hex, read block by block: the file is never held in memory.
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newSha256();
        byte[] block = new byte[BLOCK];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(block)) > 0; ) {
                digest.update(block, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String sha256(MeasuredFile m) throws IOException {
        String what = "the measured component '" + m.component() + "' (" + m.file() + ")";
        if (Files.isDirectory(m.file())) {
            throw new IOException(what + " is a directory; measure a file");
        }
        try {
            return sha256(m.file());
        } catch (NoSuchFileException e) {
            throw new IOException(what + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new IOException(what + " cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new IOException(what + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static String model(String value) {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_MODEL_BYTES || !isPrintableAscii(value)) {
            throw new IllegalArgumentException(MODEL + " must be 1 to " + MAX_MODEL_BYTES
                    + " printable ASCII characters, as the group's allowed models list it");
        }
        return value;
    }

    private static String printable(String value, String setting) {
        if (value.isEmpty() || value.length() > MAX_TEXT || !isPrintableAscii(value)) {
            throw new IllegalArgumentException(setting + " must be 1 to " + MAX_TEXT + " printable ASCII characters");
        }
        return value;
    }

    private static boolean isPrintableAscii(String value) {
        return value.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    @Override
    public String toString() {
        return "EvidenceSource[model=" + model + ", software=" + softwareName + " " + softwareVersion + ", debug="
                + (debug == null ? null : debug.claimValue()) + ", measured=" + measured + "]";
    }
}
