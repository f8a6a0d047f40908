package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

import io.fleetkey.server.registry.AuditLog;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcAuditLog implements AuditLog {
    private final JdbcTransactions tx;

    public JdbcAuditLog(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public void append(AuditEvent e) {
        tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO audit_events (occurred_at, actor, action, device_id, detail) VALUES (?, ?, ?, ?, ?)")) {
                Sql.setInstant(ps, 1, e.occurredAt());
                ps.setString(2, truncate(e.actor(), 200));
                ps.setString(3, e.action());
                ps.setString(4, e.deviceId());
                ps.setString(5, truncate(e.detail(), 2000));
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public List<AuditEvent> forDevice(String deviceId, int limit) {
        return tx.withConnection(c -> {
            List<AuditEvent> events = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT occurred_at, actor, action, device_id, detail "
                    + "FROM audit_events WHERE device_id = ? ORDER BY id DESC LIMIT ?")) {
                ps.setString(1, deviceId);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        events.add(new AuditEvent(Sql.getInstant(rs, "occurred_at"), rs.getString(2),
                                rs.getString(3), rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return events;
        });
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
