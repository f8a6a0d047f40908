package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.fleetkey.protocol.Evidence;
import io.fleetkey.server.registry.AttestationHistory;
import io.fleetkey.server.registry.AttestationRecord;
import io.fleetkey.server.registry.AttestationResult;
import io.fleetkey.server.registry.Page;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcAttestationHistory implements AttestationHistory {
    private static final String COLUMNS = "appraised_at, device_id, operation, result, decision, reasons, hw_model, "
            + "sw_name, sw_version, debug_status, measurements, signer, serial";
    /** Reasons are joined with this; no reason contains it. */
    private static final String REASON_SEPARATOR = "\n";

    private final JdbcTransactions tx;

    public JdbcAttestationHistory(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public void append(AttestationRecord r) {
        tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO attestation_results (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Sql.setInstant(ps, 1, r.appraisedAt());
                ps.setString(2, r.deviceId());
                ps.setString(3, r.operation());
                ps.setString(4, r.result().name());
                ps.setString(5, r.decision().name());
                ps.setString(6, clip(String.join(REASON_SEPARATOR, r.reasons().stream()
                        .map(reason -> reason.replace('\n', ' ')).toList()), 2000));
                Evidence e = r.evidence();
                ps.setString(7, e.hwModel());
                ps.setString(8, e.swName());
                ps.setString(9, e.swVersion());
                ps.setString(10, e.debug() == null ? null : e.debug().claimValue());
                StringBuilder lines = new StringBuilder();
                for (Evidence.Measurement m : e.measurements()) {
                    lines.append(m.component()).append(' ').append(m.sha256())
                            .append(m.version() == null ? "" : " " + m.version()).append('\n');
                }
                ps.setString(11, lines.toString());
                ps.setString(12, r.signer() == null ? null : clip(r.signer(), 400));
                ps.setString(13, r.serial());
                ps.executeUpdate();
            }
            if (r.result() != AttestationResult.UNVERIFIED) {
                // A slower, older request must not overwrite a newer result.
                try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET attestation_result = ?, "
                        + "attested_at = ? WHERE device_id = ? AND (attested_at IS NULL OR attested_at <= ?)")) {
                    ps.setString(1, r.result().name());
                    Sql.setInstant(ps, 2, r.appraisedAt());
                    ps.setString(3, r.deviceId());
                    Sql.setInstant(ps, 4, r.appraisedAt());
                    ps.executeUpdate();
                }
            }
            return null;
        }));
    }

    @Override
    public Page<AttestationRecord> of(String deviceId, int page, int size) {
        return tx.withConnection(c -> {
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM attestation_results WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            List<AttestationRecord> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM attestation_results "
                    + "WHERE device_id = ? ORDER BY id DESC LIMIT ? OFFSET ?")) {
                ps.setString(1, deviceId);
                ps.setInt(2, size);
                ps.setLong(3, (long) page * size);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(map(rs));
                    }
                }
            }
            return new Page<>(items, page, size, total);
        });
    }

    private static AttestationRecord map(ResultSet rs) throws SQLException {
        List<Evidence.Measurement> measurements = new ArrayList<>();
        for (String line : rs.getString("measurements").split("\n")) {
            if (!line.isBlank()) {
                String[] f = line.split(" ", 3);
                measurements.add(new Evidence.Measurement(f[0], f[1], f.length > 2 ? f[2] : null));
            }
        }
        String debug = rs.getString("debug_status");
        Evidence evidence = new Evidence(rs.getString("hw_model"), rs.getString("sw_name"), rs.getString("sw_version"),
                debug == null ? null : Evidence.DebugStatus.fromClaim(debug), measurements);
        String reasons = rs.getString("reasons");
        return new AttestationRecord(Sql.getInstant(rs, "appraised_at"), rs.getString("device_id"),
                rs.getString("operation"), AttestationResult.valueOf(rs.getString("result")),
                AttestationRecord.Decision.valueOf(rs.getString("decision")),
                reasons.isEmpty() ? List.of() : Arrays.asList(reasons.split(REASON_SEPARATOR)), evidence,
                rs.getString("signer"), rs.getString("serial"));
    }

    private static String clip(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }
}
