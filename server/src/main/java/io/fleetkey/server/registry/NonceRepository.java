package io.fleetkey.server.registry;

import java.time.Instant;

/** Freshness nonces, by the SHA-256 of their value; shared by every server node. */
public interface NonceRepository {
    void insert(String nonceSha256, Instant issuedAt, Instant expiresAt);

    /** What spending a nonce found. */
    enum Spend {
        /** It was fresh and unused; now it is used by this key. */
        SPENT,
        /** It was already used by this same key: the same request again (a retry). */
        ALREADY_SPENT_BY_THIS_KEY,
        /** Used by another key. */
        USED,
        /** Never issued, or expired. */
        UNKNOWN_OR_EXPIRED,
        /** Fresh and unused: {@link #spend} would spend it (only {@link #peek} says this). */
        FRESH
    }

    /** What {@link #spend} would find now, without spending: a request is checked before its transaction. */
    Spend peek(String nonceSha256, String keySha256, Instant now);

    Spend spend(String nonceSha256, String keySha256, Instant now);

    /** Forgets nonces that expired before this time; returns how many. */
    int deleteExpiredBefore(Instant time);
}
