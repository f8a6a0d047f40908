package io.fleetkey.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When to renew, and how long to wait after a failed attempt. A certificate is renewed at a
 * share of its lifetime (two thirds by default) plus random jitter, so a fleet enrolled in one
 * storm does not come back in one storm. Failed attempts back off exponentially with "full
 * jitter" (a random wait up to the doubled bound), never past the certificate's end.
 *
 * @param share      the share of the lifetime after which to renew, in (0, 1)
 * @param maxJitter  the largest random delay added to the renewal time (also capped at a tenth of the lifetime)
 * @param minBackoff the bound of the first retry's random wait
 * @param maxBackoff the largest bound a retry's wait grows to
 */
public record RenewalPolicy(double share, Duration maxJitter, Duration minBackoff, Duration maxBackoff) {
    /** Two thirds of the lifetime, up to an hour of jitter, retries from 30 s up to 1 h. */
    public static final RenewalPolicy DEFAULT = new RenewalPolicy(2.0 / 3, Duration.ofHours(1), Duration.ofSeconds(30),
            Duration.ofHours(1));

    public RenewalPolicy {
        if (!(share > 0 && share < 1)) {
            throw new IllegalArgumentException("the renewal share must be between 0 and 1 (e.g. 0.67), not " + share);
        }
        if (maxJitter.isNegative() || minBackoff.isNegative() || minBackoff.isZero()
                || maxBackoff.compareTo(minBackoff) < 0) {
            throw new IllegalArgumentException("jitter must be 0 or more, and 0 < minBackoff <= maxBackoff");
        }
    }

    /** When a certificate valid from {@code notBefore} to {@code notAfter} should be renewed. */
    public Instant renewalTime(Instant notBefore, Instant notAfter, RandomGenerator random) {
        long lifetime = Math.max(0, Duration.between(notBefore, notAfter).toMillis());
        long jitterBound = Math.min(maxJitter.toMillis(), lifetime / 10);
        long jitter = jitterBound <= 0 ? 0 : random.nextLong(jitterBound + 1);
        return notBefore.plusMillis((long) (lifetime * share) + jitter);
    }

    /**
     * How long to wait before retry number {@code attempt} (1 for the first retry): a random
     * time up to min(maxBackoff, minBackoff × 2^(attempt−1)), at least one second.
     */
    public Duration backoff(int attempt, RandomGenerator random) {
        long bound = minBackoff.toMillis();
        for (int i = 1; i < attempt && bound < maxBackoff.toMillis(); i++) {
            bound *= 2;
        }
        bound = Math.min(bound, maxBackoff.toMillis());
        return Duration.ofMillis(Math.max(1000, random.nextLong(bound + 1)));
    }
}
