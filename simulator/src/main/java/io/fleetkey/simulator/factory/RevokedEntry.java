package io.fleetkey.simulator.factory;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.bouncycastle.asn1.x509.CRLReason;

/**
 * One revoked IDevID, a line of {@code revoked.csv}: {@code serial,deviceId,revokedAt,reason}
 * (serial in lower-case hex, time as ISO-8601 UTC, reason by its RFC 5280 name).
 *
 * @param deviceId the device the certificate was issued to, or empty when revoked by serial
 *                 and the serial is not in {@code issued.csv}
 */
record RevokedEntry(BigInteger serial, String deviceId, Instant revokedAt, Reason reason) {
    static final String CSV_HEADER = "serial,deviceId,revokedAt,reason";

    /**
     * RFC 5280 §5.3.1 reasons that fit a factory identity. certificateHold is left out
     * because a revocation here is final; the CA and attribute authority reasons do not
     * describe a device.
     */
    enum Reason {
        UNSPECIFIED("unspecified", CRLReason.unspecified),
        KEY_COMPROMISE("keyCompromise", CRLReason.keyCompromise),
        AFFILIATION_CHANGED("affiliationChanged", CRLReason.affiliationChanged),
        SUPERSEDED("superseded", CRLReason.superseded),
        CESSATION_OF_OPERATION("cessationOfOperation", CRLReason.cessationOfOperation),
        PRIVILEGE_WITHDRAWN("privilegeWithdrawn", CRLReason.privilegeWithdrawn);

        private final String rfcName;
        private final int code;

        Reason(String rfcName, int code) {
            this.rfcName = rfcName;
            this.code = code;
        }

        String rfcName() {
            return rfcName;
        }

        int code() {
            return code;
        }

        static Optional<Reason> byName(String name) {
            return Arrays.stream(values()).filter(r -> r.rfcName.equalsIgnoreCase(name.trim())).findFirst();
        }

        static List<String> names() {
            return Arrays.stream(values()).map(Reason::rfcName).toList();
        }
    }

    String toCsv() {
        return serial.toString(16) + "," + deviceId + "," + revokedAt + "," + reason.rfcName();
    }

    /** @throws IllegalArgumentException when the line is not a revoked.csv line */
    static RevokedEntry fromCsv(String line) {
        String[] fields = line.split(",", -1);
        if (fields.length != 4) {
            throw new IllegalArgumentException("expected 4 comma-separated fields");
        }
        return new RevokedEntry(new BigInteger(fields[0].trim().toLowerCase(Locale.ROOT), 16), fields[1].trim(),
                Instant.parse(fields[2].trim()),
                Reason.byName(fields[3]).orElseThrow(() -> new IllegalArgumentException("unknown reason " + fields[3])));
    }
}
