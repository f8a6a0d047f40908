package io.fleetkey.server.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import io.fleetkey.protocol.Certificates;

/** Small pieces the enrollment benchmarks share. */
final class BenchSupport {
    private BenchSupport() {
    }

    /** Whether a certs-only PKCS#7 answer holds a certificate for this device (a spot check of what came back). */
    static boolean isCertificateFor(byte[] certsOnly, String deviceId) {
        try {
            X509Certificate cert = Certificates.fromPkcs7CertsOnly(certsOnly).get(0);
            return cert.getSubjectX500Principal().getName().equals("CN=" + deviceId);
        } catch (RuntimeException e) {
            return false;
        }
    }

    static Duration seconds(double s) {
        return Duration.ofMillis(Math.round(s * 1000));
    }

    /** Removes a benchmark's data folder. */
    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The {@code --server-properties name=value,name=value} option. */
    static Map<String, Object> serverProperties(String value) {
        Map<String, Object> props = new LinkedHashMap<>();
        for (String kv : value.split(",")) {
            String[] parts = kv.split("=", 2);
            if (parts.length != 2) {
                throw new IllegalArgumentException("server-properties: name=value,name=value");
            }
            props.put(parts[0].trim(), parts[1].trim());
        }
        return props;
    }
}
