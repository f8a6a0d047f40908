package io.fleetkey.server.enrollment;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

import io.fleetkey.server.registry.NonceRepository;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.fleetkey.server.util.Digests;

/**
 * Freshness nonces for device statements (draft-ietf-lamps-attestation-freshness): random,
 * short-lived, spent once, kept in the registry (as hashes) so that every server node agrees.
 * A device asks for one, puts it in its statement's {@code eat_nonce}, and the statement is
 * then accepted once; the same request sent again after a lost answer (same CSR key) still is.
 */
public final class FreshnessNonces {
    public static final int DEFAULT_BYTES = 32;
    public static final int MIN_BYTES = 8;
    /** 55 bytes are 74 base64url characters, the most RFC 9711 allows for a JWT's eat_nonce. */
    public static final int MAX_BYTES = 55;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** How long a client told to slow down should wait. */
    public static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    private final NonceRepository repository;
    private final Clock clock;
    private final Duration lifetime;
    private final RateLimiter rate;
    private final EnrollmentObserver observer;

    /**
     * @param perSecond most nonces this node issues a second
     * @param observer  told of each nonce issued
     */
    public FreshnessNonces(NonceRepository repository, Clock clock, Duration lifetime, int perSecond,
                           EnrollmentObserver observer) {
        this.repository = repository;
        this.clock = clock;
        this.lifetime = lifetime;
        this.rate = RateLimiter.of("freshness-nonces", RateLimiterConfig.custom().limitForPeriod(perSecond)
                .limitRefreshPeriod(Duration.ofSeconds(1)).timeoutDuration(Duration.ZERO).build());
        this.observer = observer;
    }

    /** More nonces were asked for than this node issues a second; the door answers "retry after". */
    public static final class TooManyNonces extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooManyNonces(int perSecond) {
            super("this server issues at most " + perSecond + " nonces a second; retry after "
                    + RETRY_AFTER.toSeconds() + " s", null, false, false);
        }
    }

    /** A new nonce and how long it is good for. */
    public record Issued(String nonce, Duration lifetime) {
        /** The draft's answer, {@code {"nonce": ..., "expiry": seconds}}, the same on every door. */
        public java.util.Map<String, Object> body() {
            java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("nonce", nonce);
            body.put("expiry", lifetime.toSeconds());
            return body;
        }

        @Override
        public String toString() {
            return "Issued[lifetime=" + lifetime + "]";
        }
    }

    /** Why a requested nonce length cannot be served, if it cannot (null: {@value #DEFAULT_BYTES}). */
    public static Optional<String> lengthProblem(Integer bytes) {
        if (bytes != null && (bytes < MIN_BYTES || bytes > MAX_BYTES)) {
            return Optional.of("a nonce has " + MIN_BYTES + " to " + MAX_BYTES + " bytes (len), not " + bytes);
        }
        return Optional.empty();
    }

    /**
     * A new nonce of this many bytes (null: {@value #DEFAULT_BYTES}), base64url without padding.
     *
     * @throws IllegalArgumentException when {@link #lengthProblem} names a problem
     * @throws TooManyNonces when this node has issued its nonces for this second
     */
    public Issued issue(Integer bytes) {
        lengthProblem(bytes).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        if (!rate.acquirePermission()) {
            throw new TooManyNonces(rate.getRateLimiterConfig().getLimitForPeriod());
        }
        byte[] raw = new byte[bytes == null ? DEFAULT_BYTES : bytes];
        RANDOM.nextBytes(raw);
        String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant now = clock.instant();
        repository.insert(hash(nonce), now, now.plus(lifetime));
        observer.nonceIssued();
        return new Issued(nonce, lifetime);
    }

    /**
     * Spends the nonce of an accepted statement for this CSR key, or says why not. Called in the
     * transaction that issues the certificate, so a nonce is spent only by a request that got one.
     */
    Optional<String> spend(String nonce, String csrKeySha256) {
        return problem(repository.spend(hash(nonce), csrKeySha256, clock.instant()));
    }

    /** Whether the nonce could be spent by this CSR key now, or why not; spends nothing. */
    Optional<String> check(String nonce, String csrKeySha256) {
        return problem(repository.peek(hash(nonce), csrKeySha256, clock.instant()));
    }

    private Optional<String> problem(NonceRepository.Spend spend) {
        return switch (spend) {
            case SPENT, ALREADY_SPENT_BY_THIS_KEY, FRESH -> Optional.empty();
            case USED -> Optional.of("the statement's nonce was already used for another request; ask for a new one");
            case UNKNOWN_OR_EXPIRED -> Optional.of("the statement's nonce is unknown or expired (nonces live "
                    + lifetime.toMinutes() + " minutes); ask for a new one");
        };
    }

    /** Forgets nonces that expired a while ago (kept that long so a retry can still be recognised). */
    public int forgetExpired(Duration keepAfterExpiry) {
        return repository.deleteExpiredBefore(clock.instant().minus(keepAfterExpiry));
    }

    private static String hash(String nonce) {
        return Digests.sha256Hex(nonce.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
}
