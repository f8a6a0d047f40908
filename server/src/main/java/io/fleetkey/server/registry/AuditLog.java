package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.List;

/**
 * Append-only, hash-chained record of what changed, who did it and why ({@link AuditChain}).
 * Never holds secrets. Thread-safe; several server nodes may append to one shared registry.
 */
public interface AuditLog {
    /** Outcomes an entry may have. */
    String OK = "ok";
    String PENDING = "pending";
    String REFUSED = "refused";
    String DENIED = "denied";
    String FAILED = "failed";

    /**
     * Appends an event. Inside a {@link Transactions} transaction the entry is chained and written
     * just before that transaction commits, and vanishes with it if it rolls back.
     */
    void append(AuditEvent event);

    /** The device's most recent events, newest first. */
    List<AuditEvent> forDevice(String deviceId, int limit);

    /**
     * Entries with a sequence number above {@code afterSeq}, in sequence order.
     *
     * @param deviceId only entries about this device, or null for all
     * @param action   only entries with this action, or null for all
     */
    List<AuditEntry> page(long afterSeq, int limit, String deviceId, String action);

    /** The chain head: the sequence number and hash of the last entry appended (0 and the genesis value when empty). */
    ChainHead head();

    /**
     * @param subject what the event is about: a device id, {@code group:<name>}, an API path; may be null
     * @param outcome {@link #OK}, {@link #PENDING}, {@link #REFUSED}, {@link #DENIED} or {@link #FAILED}
     */
    record AuditEvent(Instant occurredAt, String actor, String action, String deviceId, String subject,
                      String outcome, String detail) {
        /** A successful event about a device (or about nothing in particular when {@code deviceId} is null). */
        public AuditEvent(Instant occurredAt, String actor, String action, String deviceId, String detail) {
            this(occurredAt, actor, action, deviceId, deviceId, OK, detail);
        }
    }

    /** An event as the chain holds it: its sequence number and its hash (lower-case hex SHA-256). */
    record AuditEntry(long seq, AuditEvent event, String hash) {
    }

    record ChainHead(long seq, String hash) {
    }
}
