package io.fleetkey.server.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import io.fleetkey.server.registry.AuditLog.AuditEvent;
import org.junit.jupiter.api.Test;

/**
 * The chain's encoding as docs/audit.md states it, against hashes computed outside Fleetkey
 * (Python: hashlib.sha256 over the previous hash and the length-prefixed UTF-8 fields).
 */
class AuditChainTest {
    private static final AuditEvent FIRST = new AuditEvent(Instant.parse("2026-11-27T15:04:34.123456Z"),
            "api:admin", "device.revoked", "meter-0100", "meter-0100", "ok", null);
    private static final AuditEvent SECOND = new AuditEvent(Instant.parse("2026-11-27T15:04:35Z"),
            "device:zähler-1", "enrollment.refused", null, "group:g", "refused", "NOT_AUTHENTICATED: ∑");

    @Test
    void hashes_match_the_documented_encoding() {
        String first = AuditChain.hash(AuditChain.GENESIS, 1, FIRST);
        assertThat(first).isEqualTo("0e985822f6c989860595c3558beb2d3c70ff673b11f80b19016703852e82d0db");
        assertThat(AuditChain.hash(first, 2, SECOND))
                .isEqualTo("12256ca287ae60d29fb69b1acfa5a3106480221c65f66435371aeec77cc8586f");
    }

    @Test
    void fields_cannot_borrow_from_their_neighbours_and_null_is_not_empty() {
        AuditEvent shifted = new AuditEvent(FIRST.occurredAt(), "api:admindevice.", "revoked", "meter-0100",
                "meter-0100", "ok", null);
        AuditEvent empty = new AuditEvent(FIRST.occurredAt(), "api:admin", "device.revoked", "meter-0100",
                "meter-0100", "ok", "");
        String hash = AuditChain.hash(AuditChain.GENESIS, 1, FIRST);
        assertThat(AuditChain.hash(AuditChain.GENESIS, 1, shifted)).isNotEqualTo(hash);
        assertThat(AuditChain.hash(AuditChain.GENESIS, 1, empty)).isNotEqualTo(hash);
        assertThat(AuditChain.hash(AuditChain.GENESIS, 2, FIRST)).isNotEqualTo(hash);
    }

    @Test
    void storable_keeps_microseconds_and_cuts_texts_to_their_columns_without_halving_a_character() {
        AuditEvent e = AuditChain.storable(new AuditEvent(Instant.parse("2026-11-27T15:04:34.123456789Z"),
                "a".repeat(199) + "\uD83D\uDE00", "x", null, null, "ok", "d".repeat(3000)));
        assertThat(AuditChain.timestamp(e.occurredAt())).isEqualTo("2026-11-27T15:04:34.123456Z");
        assertThat(e.actor()).isEqualTo("a".repeat(199));
        assertThat(e.detail()).hasSize(AuditChain.DETAIL_MAX);
    }
}
