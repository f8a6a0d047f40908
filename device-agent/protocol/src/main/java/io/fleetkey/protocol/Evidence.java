package io.fleetkey.protocol;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a device says about itself in its statement, beyond who it is (RFC 9711 claims):
 * hardware model, software name and version, debug state and the measured components. Each
 * field may be null (the list may be empty) when the device does not report it; the server's
 * verifier decides what a missing claim means for the device's group.
 *
 * @param hwModel      the hardware model ({@code hwmodel})
 * @param swName       the software (firmware) name ({@code swname})
 * @param swVersion    its version ({@code swversion}), e.g. {@code 2.4.1}
 * @param debug        whether debug interfaces are open ({@code dbgstat})
 * @param measurements named digests of what the device runs ({@code measurements})
 */
public record Evidence(String hwModel, String swName, String swVersion, DebugStatus debug,
                       List<Measurement> measurements) {
    /** A statement that reports nothing beyond identity. */
    public static final Evidence NONE = new Evidence(null, null, null, null, List.of());

    /** Component names are short and printable, so they can be stored, listed and compared. */
    public static final Pattern COMPONENT_NAME = Pattern.compile("[A-Za-z0-9._:/+-]{1,64}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    public Evidence {
        measurements = measurements == null ? List.of() : List.copyOf(measurements);
    }

    public boolean isEmpty() {
        return hwModel == null && swName == null && swVersion == null && debug == null && measurements.isEmpty();
    }

    /** The RFC 9711 debug states, strongest last; in JSON they travel by name. */
    public enum DebugStatus {
        ENABLED, DISABLED, DISABLED_SINCE_BOOT, DISABLED_PERMANENTLY, DISABLED_FULLY_AND_PERMANENTLY;

        /** The RFC 9711 name, e.g. {@code disabled-since-boot}. */
        public String claimValue() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Reads the RFC 9711 name, or its CBOR integer (0 to 4). */
        public static DebugStatus fromClaim(Object value) {
            if (value instanceof Number n && n.longValue() >= 0 && n.longValue() < values().length
                    && n.doubleValue() == n.longValue()) {
                return values()[(int) n.longValue()];
            }
            if (value instanceof String s) {
                for (DebugStatus d : values()) {
                    if (d.claimValue().equals(s)) {
                        return d;
                    }
                }
            }
            throw new IllegalArgumentException("dbgstat must be one of enabled, disabled, disabled-since-boot, "
                    + "disabled-permanently, disabled-fully-and-permanently");
        }
    }

    /**
     * One measured component: its name (e.g. {@code firmware}, {@code agent.jar},
     * {@code config}) and the SHA-256 of its content, lower-case hex; the version is optional.
     */
    public record Measurement(String component, String sha256, String version) {
        public Measurement {
            if (component == null || !COMPONENT_NAME.matcher(component).matches()) {
                throw new IllegalArgumentException("a measured component's name must be 1 to 64 characters from "
                        + "A-Z a-z 0-9 . _ : / + -");
            }
            sha256 = sha256 == null ? null : sha256.toLowerCase(Locale.ROOT);
            if (sha256 == null || !SHA256_HEX.matcher(sha256).matches()) {
                throw new IllegalArgumentException("the digest of component '" + component
                        + "' must be a SHA-256 (64 hex digits)");
            }
        }

        public Measurement(String component, String sha256) {
            this(component, sha256, null);
        }
    }
}
