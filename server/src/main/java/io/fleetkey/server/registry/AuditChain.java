package io.fleetkey.server.registry;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;

import io.fleetkey.server.registry.AuditLog.AuditEntry;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.AuditLog.ChainHead;
import io.fleetkey.server.util.Digests;

/**
 * The audit log's hash chain: entry {@code n} has
 * {@code hash(n) = SHA-256(hash(n-1) || encode(n, fields))} with {@code hash(0) = GENESIS}.
 *
 * <p>{@code encode} is length-prefixed, so no two different entries encode alike: a 4-byte
 * big-endian length then the UTF-8 bytes for each of seq (decimal), occurredAt, actor, action,
 * deviceId, subject, outcome and detail, in that order; a null is the length -1 with no bytes.
 * occurredAt is UTC with exactly six fractional digits ({@code 2026-11-27T15:04:34.123456Z}),
 * the precision H2 and PostgreSQL both keep. {@link #storable} cuts an event to what the
 * columns hold, so what is hashed is exactly what is read back. Stateless and thread-safe.
 */
public final class AuditChain {
    /** What the first entry chains to: 32 zero bytes. */
    public static final String GENESIS = "0".repeat(64);

    public static final int ACTOR_MAX = 200;
    public static final int ACTION_MAX = 64;
    public static final int DEVICE_ID_MAX = 64;
    public static final int SUBJECT_MAX = 200;
    public static final int OUTCOME_MAX = 16;
    public static final int DETAIL_MAX = 2000;

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private AuditChain() {
    }

    /** The event as the database keeps it: microsecond time, each text cut to its column's length. */
    public static AuditEvent storable(AuditEvent e) {
        return new AuditEvent(e.occurredAt().truncatedTo(ChronoUnit.MICROS), cut(e.actor(), ACTOR_MAX),
                cut(e.action(), ACTION_MAX), cut(e.deviceId(), DEVICE_ID_MAX), cut(e.subject(), SUBJECT_MAX),
                cut(e.outcome(), OUTCOME_MAX), cut(e.detail(), DETAIL_MAX));
    }

    /** The fixed text form of an entry's time. */
    public static String timestamp(Instant instant) {
        return TIME.format(instant);
    }

    /** The hash of entry {@code seq}, chained to {@code previousHash} (hex). */
    public static String hash(String previousHash, long seq, AuditEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(HexFormat.of().parseHex(previousHash));
        field(out, Long.toString(seq));
        field(out, timestamp(e.occurredAt()));
        field(out, e.actor());
        field(out, e.action());
        field(out, e.deviceId());
        field(out, e.subject());
        field(out, e.outcome());
        field(out, e.detail());
        return Digests.sha256Hex(out.toByteArray());
    }

    /** What a walk of the chain found. {@code broken} is null when {@code ok}. */
    public record Verification(boolean ok, long entries, ChainHead head, Break broken) {
    }

    /** The first place where the chain does not check out. */
    public record Break(long seq, Problem problem, String message) {
    }

    public enum Problem {
        /** The entry's fields or hash were changed. */
        ALTERED,
        /** Entries are missing from the middle (or the start). */
        DELETED,
        /** Entries are missing from the end, before the head's sequence number. */
        TRUNCATED,
        /** The head row does not match the last entry. */
        HEAD
    }

    /**
     * Walks the chain from the first entry to the head, {@code pageSize} entries at a time, and
     * stops at the first problem. Entries appended while it walks (above the head it read first)
     * are left for the next walk.
     */
    public static Verification verify(AuditLog log, int pageSize) {
        ChainHead head = log.head();
        String previous = GENESIS;
        long expected = 1;
        long after = 0;
        walk:
        while (true) {
            List<AuditEntry> page = log.page(after, pageSize, null, null);
            for (AuditEntry entry : page) {
                if (entry.seq() > head.seq()) {
                    break walk;
                }
                if (entry.seq() != expected) {
                    return broken(expected - 1, head, new Break(expected, Problem.DELETED, "entry " + expected
                            + (entry.seq() - expected > 1 ? " to " + (entry.seq() - 1) : "") + " missing: entry "
                            + (expected - 1) + " is followed by entry " + entry.seq()));
                }
                String recomputed = hash(previous, entry.seq(), entry.event());
                if (!recomputed.equals(entry.hash())) {
                    return broken(expected - 1, head, new Break(entry.seq(), Problem.ALTERED, "entry " + entry.seq()
                            + " does not match its hash: stored " + entry.hash() + ", recomputed " + recomputed));
                }
                previous = recomputed;
                expected++;
            }
            if (page.size() < pageSize) {
                break;
            }
            after = page.get(page.size() - 1).seq();
        }
        long entries = expected - 1;
        if (entries < head.seq()) {
            return broken(entries, head, new Break(expected, Problem.TRUNCATED, "the log ends at entry " + entries
                    + " but the chain head says " + head.seq() + " entries were appended"));
        }
        if (!previous.equals(head.hash())) {
            return broken(entries, head, new Break(head.seq(), Problem.HEAD, "the chain head's hash " + head.hash()
                    + " is not the hash of entry " + head.seq() + " (" + previous + ")"));
        }
        return new Verification(true, entries, head, null);
    }

    private static Verification broken(long entries, ChainHead head, Break b) {
        return new Verification(false, entries, head, b);
    }

    private static void field(ByteArrayOutputStream out, String value) {
        if (value == null) {
            writeInt(out, -1);
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        writeInt(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    /** Cuts to at most {@code max} chars without splitting a surrogate pair (PostgreSQL refuses half of one). */
    private static String cut(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
        return s.substring(0, end);
    }
}
