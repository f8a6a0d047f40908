package io.fleetkey.agent;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's settings: a configuration file ({@code key = value}, java.util.Properties
 * syntax) with environment overrides. A key {@code attestation.software-version} is
 * overridden by {@code FLEETKEY_AGENT_ATTESTATION_SOFTWARE_VERSION}: upper case, '.' and '-'
 * as '_'. Unknown keys are refused, so a typo does not silently leave a default in place.
 * Every value remembers where it came from, so an error can say which line or variable to fix.
 */
public final class AgentSettings {
    public static final String ENV_PREFIX = "FLEETKEY_AGENT_";

    /** Every key the agent reads, with what it means; docs/agent.md's table lists the same. */
    public static final Map<String, String> KEYS = keys();

    private final Map<String, String> values;
    private final Map<String, String> sources;

    private AgentSettings(Map<String, String> values, Map<String, String> sources) {
        this.values = Collections.unmodifiableMap(values);
        this.sources = Collections.unmodifiableMap(sources);
    }

    private static Map<String, String> keys() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("door", "https, coaps or mqtt: the door to enroll and renew over");
        keys.put("server", "the server's HTTPS URL, e.g. https://fleetkey.example.com:8443");
        keys.put("coap", "the server's CoAP/DTLS URL, e.g. coaps://fleetkey.example.com:5684");
        keys.put("mqtt", "the MQTT broker's TLS URL, e.g. ssl://broker.example.com:8883");
        keys.put("ca-cert", "the pinned Fleetkey CA chain (PEM)");
        keys.put("device-id", "this device's id");
        keys.put("dir", "the identity directory");
        keys.put("key-type", "the kind of key the device makes: p256 (default), p384, ed25519, rsa2048, rsa3072");
        keys.put("idevid", "the factory identity (PKCS#12); its password comes from FLEETKEY_IDEVID_PASSWORD");
        keys.put("renew-at", "the share of a certificate's lifetime after which it is renewed, e.g. 0.67");
        keys.put("renew-jitter", "the largest random delay added to a renewal, e.g. 1h");
        keys.put("retry-min", "the first retry's longest wait, e.g. 30s");
        keys.put("retry-max", "the longest wait between retries, e.g. 1h");
        keys.put(EvidenceSource.MODEL, "the hardware model reported in evidence");
        keys.put(EvidenceSource.SOFTWARE_NAME, "the software name reported in evidence");
        keys.put(EvidenceSource.SOFTWARE_VERSION, "the software version reported in evidence");
        keys.put(EvidenceSource.DEBUG, "the debug state reported in evidence");
        keys.put(EvidenceSource.MEASURE, "name=path pairs of files measured into evidence");
        return Collections.unmodifiableMap(keys);
    }

    /** The environment variable that overrides a key. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * Reads the file (when it is given and exists) and applies the environment's overrides.
     *
     * @param file the configuration file, or null for none; a named file that does not exist is an error
     * @throws IllegalArgumentException naming the unknown key, the file or the variable
     */
    public static AgentSettings load(Path file, Map<String, String> env) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        if (file != null) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("the configuration file " + file + " does not exist");
            }
            Set<String> unknown = new TreeSet<>(properties.stringPropertyNames());
            unknown.removeAll(KEYS.keySet());
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException(file + " sets unknown keys " + unknown + "; the agent reads "
                        + KEYS.keySet());
            }
            for (String key : properties.stringPropertyNames()) {
                values.put(key, properties.getProperty(key).strip());
                sources.put(key, file.toString());
            }
        }
        for (String key : KEYS.keySet()) {
            String value = env.get(envName(key));
            if (value != null) {
                values.put(key, value.strip());
                sources.put(key, "the environment variable " + envName(key));
            }
        }
        for (String name : env.keySet()) {
            if (name.startsWith(ENV_PREFIX) && KEYS.keySet().stream().noneMatch(k -> envName(k).equals(name))) {
                throw new IllegalArgumentException("the environment variable " + name + " names no setting; the agent "
                        + "reads " + KEYS.keySet().stream().map(AgentSettings::envName).toList());
            }
        }
        return new AgentSettings(values, sources);
    }

    /** A copy with these values set (e.g. from command-line options), which win over file and environment. */
    public AgentSettings with(Map<String, String> overrides, String source) {
        Map<String, String> values = new LinkedHashMap<>(this.values);
        Map<String, String> sources = new LinkedHashMap<>(this.sources);
        overrides.forEach((key, value) -> {
            if (!KEYS.containsKey(key)) {
                throw new IllegalArgumentException("no setting '" + key + "'");
            }
            if (value != null) {
                values.put(key, value);
                sources.put(key, source);
            }
        });
        return new AgentSettings(values, sources);
    }

    public Optional<String> get(String key) {
        requireKnown(key);
        String value = values.get(key);
        return value == null || value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /** Where a key's value came from, for error messages. */
    public String sourceOf(String key) {
        return sources.getOrDefault(key, "the default");
    }

    /** All values (for EvidenceSource.fromSettings and the like). */
    public Map<String, String> asMap() {
        return values;
    }

    public double fraction(String key, double fallback) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(value.get());
            if (d > 0 && d < 1) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + " is '" + value.get() + "' in " + sourceOf(key)
                + "; it must be a number between 0 and 1, e.g. 0.67");
    }

    /** A duration such as {@code 30s}, {@code 15m}, {@code 2h}, {@code 1d}. */
    public Duration duration(String key, Duration fallback) {
        Optional<String> value = get(key);
        if (value.isEmpty()) {
            return fallback;
        }
        String text = value.get().toLowerCase(Locale.ROOT);
        try {
            if (text.length() >= 2) {
                long amount = Long.parseLong(text.substring(0, text.length() - 1));
                Duration d = switch (text.charAt(text.length() - 1)) {
                    case 's' -> Duration.ofSeconds(amount);
                    case 'm' -> Duration.ofMinutes(amount);
                    case 'h' -> Duration.ofHours(amount);
                    case 'd' -> Duration.ofDays(amount);
                    default -> null;
                };
                if (d != null && !d.isNegative()) {
                    return d;
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + " is '" + value.get() + "' in " + sourceOf(key)
                + "; write a whole number with s, m, h or d, e.g. 30s or 1h");
    }

    /** The kind of key new requests use (p256 unless set). */
    public DeviceKeyType keyType() {
        try {
            return get("key-type").map(DeviceKeyType::of).orElse(DeviceKeyType.P256);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (key-type in " + sourceOf("key-type") + ")");
        }
    }

    /** The renewal policy these settings describe, over the defaults. */
    public RenewalPolicy renewalPolicy() {
        RenewalPolicy d = RenewalPolicy.DEFAULT;
        return new RenewalPolicy(fraction("renew-at", d.share()), duration("renew-jitter", d.maxJitter()),
                duration("retry-min", d.minBackoff()), duration("retry-max", d.maxBackoff()));
    }

    private static void requireKnown(String key) {
        if (!KEYS.containsKey(key)) {
            throw new IllegalArgumentException("no setting '" + key + "'");
        }
    }

    @Override
    public String toString() {
        return "AgentSettings" + values.keySet();
    }
}
