package io.fleetkey.agent;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

import com.nimbusds.jose.util.JSONObjectUtils;

/**
 * A freshness nonce from the server (draft-ietf-lamps-attestation-freshness), to be bound into
 * evidence or a device statement. {@link #toString()} does not show the nonce.
 *
 * @param value  the nonce as the server sent it (base64url text); goes into {@code eat_nonce} unchanged
 * @param expiry how long the server accepts it, counted from when it was issued
 */
public record FreshnessNonce(String value, Duration expiry) {
    public FreshnessNonce {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(expiry, "expiry");
        if (value.isEmpty() || expiry.isNegative()) {
            throw new IllegalArgumentException("a nonce needs a value and a non-negative expiry");
        }
    }

    /**
     * Reads the JSON every door answers with: {@code {"nonce": "...", "expiry": seconds}}.
     *
     * @throws IllegalArgumentException when the text is not such a document
     */
    public static FreshnessNonce fromJson(String json) {
        Map<String, Object> body;
        try {
            body = JSONObjectUtils.parse(json);
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("the nonce answer is not JSON: " + e.getMessage(), e);
        }
        if (!(body.get("nonce") instanceof String nonce) || nonce.isEmpty()) {
            throw new IllegalArgumentException("the nonce answer has no \"nonce\" text");
        }
        if (!(body.get("expiry") instanceof Number seconds) || seconds.longValue() < 0) {
            throw new IllegalArgumentException("the nonce answer has no \"expiry\" in seconds");
        }
        return new FreshnessNonce(nonce, Duration.ofSeconds(seconds.longValue()));
    }

    @Override
    public String toString() {
        return "FreshnessNonce[expiry=" + expiry + "]";
    }
}
