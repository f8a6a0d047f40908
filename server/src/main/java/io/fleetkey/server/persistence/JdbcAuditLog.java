package io.fleetkey.server.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import io.fleetkey.server.registry.AuditChain;
import io.fleetkey.server.registry.AuditLog;
import jakarta.inject.Singleton;

/**
 * The audit log in {@code audit_events}, chained through the one-row {@code audit_chain_head}.
 * Events appended in a transaction are held until it is about to commit; then the head row is
 * locked, the events are numbered and chained after it, and the head moves on, all in that
 * transaction. Appenders, on this node or another, take turns on the head's row lock, and hold
 * it only from that moment to the commit.
 */
@Singleton
public final class JdbcAuditLog implements AuditLog {
    private static final String COLUMNS = "seq, occurred_at, actor, action, device_id, subject, outcome, detail, entry_hash";
    private static final int CHAIN_BATCH = 500;

    private final JdbcTransactions tx;
    /** Per-transaction key of the hook that writes its events. */
    private final Object pendingKey = new Object();

    /** Chains the entries written before the chain existed, once, before anything else touches the log. */
    public JdbcAuditLog(JdbcTransactions tx) {
        this.tx = tx;
        chainOlderEntries();
    }

    @Override
    public void append(AuditEvent e) {
        AuditEvent event = AuditChain.storable(e);
        if (!tx.inTransactionNow()) {
            tx.inTransaction(() -> {
                append(event);
                return null;
            });
            return;
        }
        tx.beforeCommit(pendingKey, Pending::new).events.add(event);
    }

    /** The events of one transaction, written when it is about to commit. */
    private final class Pending implements Runnable {
        private final List<AuditEvent> events = new ArrayList<>();

        @Override
        public void run() {
                tx.withConnection(c -> {
                ChainHead head = lockHead(c);
                long seq = head.seq();
                String hash = head.hash();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (" + COLUMNS
                        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    for (AuditEvent event : events) {
                        seq++;
                        hash = AuditChain.hash(hash, seq, event);
                        ps.setLong(1, seq);
                        Sql.setInstant(ps, 2, event.occurredAt());
                        ps.setString(3, event.actor());
                        ps.setString(4, event.action());
                        ps.setString(5, event.deviceId());
                        ps.setString(6, event.subject());
                        ps.setString(7, event.outcome());
                        ps.setString(8, event.detail());
                        ps.setString(9, hash);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                moveHead(c, seq, hash);
                return null;
            });
        }
    }

    @Override
    public List<AuditEvent> forDevice(String deviceId, int limit) {
        return tx.withConnection(c -> {
            List<AuditEvent> events = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM audit_events WHERE device_id = ? ORDER BY seq DESC LIMIT ?")) {
                ps.setString(1, deviceId);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        events.add(event(rs));
                    }
                }
            }
            return events;
        });
    }

    @Override
    public List<AuditEntry> page(long afterSeq, int limit, String deviceId, String action) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM audit_events WHERE seq > ?");
        if (deviceId != null) {
            sql.append(" AND device_id = ?");
        }
        if (action != null) {
            sql.append(" AND action = ?");
        }
        sql.append(" ORDER BY seq LIMIT ?");
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                ps.setLong(i++, afterSeq);
                if (deviceId != null) {
                    ps.setString(i++, deviceId);
                }
                if (action != null) {
                    ps.setString(i++, action);
                }
                ps.setInt(i, limit);
                List<AuditEntry> entries = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        entries.add(new AuditEntry(rs.getLong("seq"), event(rs), rs.getString("entry_hash")));
                    }
                }
                return entries;
            }
        });
    }

    @Override
    public ChainHead head() {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                return headOf(rs);
            }
        });
    }

    /**
     * Numbers and chains entries written without a sequence number (before the chain existed, or
     * by a server that predates it), in id order after the head, at start-up under the head's
     * lock. Deterministic: the same rows always get the same numbers and hashes, whichever node
     * does it; a node that finds none left does nothing.
     */
    private void chainOlderEntries() {
        tx.inTransaction(() -> tx.withConnection(c -> {
            ChainHead head = lockHead(c);
            long seq = head.seq();
            String hash = head.hash();
            while (true) {
                List<Long> ids = new ArrayList<>();
                List<AuditEvent> events = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id, " + COLUMNS
                        + " FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT " + CHAIN_BATCH);
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong("id"));
                        events.add(AuditChain.storable(event(rs)));
                    }
                }
                if (ids.isEmpty()) {
                    break;
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE audit_events SET seq = ?, entry_hash = ? WHERE id = ?")) {
                    for (int i = 0; i < ids.size(); i++) {
                        seq++;
                        hash = AuditChain.hash(hash, seq, events.get(i));
                        ps.setLong(1, seq);
                        ps.setString(2, hash);
                        ps.setLong(3, ids.get(i));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            if (seq != head.seq()) {
                moveHead(c, seq, hash);
            }
            return null;
        }));
    }

    private static ChainHead lockHead(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE");
             ResultSet rs = ps.executeQuery()) {
            return headOf(rs);
        }
    }

    private static ChainHead headOf(ResultSet rs) throws SQLException {
        if (!rs.next()) {
            throw new RegistryException("the audit chain head row is missing (migration V6 creates it)", null);
        }
        return new ChainHead(rs.getLong(1), rs.getString(2));
    }

    private static void moveHead(Connection c, long seq, String hash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE audit_chain_head SET last_seq = ?, last_hash = ? WHERE id = 1")) {
            ps.setLong(1, seq);
            ps.setString(2, hash);
            ps.executeUpdate();
        }
    }

    private static AuditEvent event(ResultSet rs) throws SQLException {
        return new AuditEvent(Sql.getInstant(rs, "occurred_at"), rs.getString("actor"), rs.getString("action"),
                rs.getString("device_id"), rs.getString("subject"), rs.getString("outcome"), rs.getString("detail"));
    }
}
