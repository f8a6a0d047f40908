package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.fleetkey.server.registry.AttestationResult;
import io.fleetkey.server.registry.Device;
import io.fleetkey.server.registry.DeviceFilter;
import io.fleetkey.server.registry.DeviceRepository;
import io.fleetkey.server.registry.DeviceStatus;
import io.fleetkey.server.registry.Page;
import io.fleetkey.server.registry.RevocationFilter;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcDeviceRepository implements DeviceRepository {
    private static final String COLUMNS =
            "device_id, group_name, status, pending_key_sha256, approved_key_sha256, created_at, updated_at";
    private static final String READ_COLUMNS = COLUMNS + ", attestation_result, attested_at";

    private final JdbcTransactions tx;
    private final Clock clock;

    public JdbcDeviceRepository(JdbcTransactions tx, Clock clock) {
        this.tx = tx;
        this.clock = clock;
    }

    @Override
    public Optional<Device> find(String deviceId) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + READ_COLUMNS + " FROM devices WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public void insertAll(List<Device> devices) {
        tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO devices (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (Device d : devices) {
                    ps.setString(1, d.deviceId());
                    ps.setString(2, d.group());
                    ps.setString(3, d.status().name());
                    ps.setString(4, d.pendingKeySha256());
                    ps.setString(5, d.approvedKeySha256());
                    Sql.setInstant(ps, 6, d.createdAt());
                    Sql.setInstant(ps, 7, d.updatedAt());
                    ps.addBatch();
                }
                ps.executeBatch();
            } catch (java.sql.BatchUpdateException e) {
                throw e.getNextException() != null ? e.getNextException() : e;
            }
            return null;
        });
    }

    @Override
    public boolean updateStatus(String deviceId, DeviceStatus status) {
        // An UPDATE even when nothing changes: it takes the row lock that orders revocation and issuance.
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET status = ?, "
                    + "updated_at = CASE WHEN status = ? THEN updated_at ELSE ? END "
                    + "WHERE device_id = ? AND status <> 'REVOKED'")) {
                ps.setString(1, status.name());
                ps.setString(2, status.name());
                Sql.setInstant(ps, 3, clock.instant());
                ps.setString(4, deviceId);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public void setPendingKey(String deviceId, String publicKeySha256) {
        update("UPDATE devices SET pending_key_sha256 = ?, updated_at = ? WHERE device_id = ?", publicKeySha256, deviceId);
    }

    @Override
    public void setApprovedKey(String deviceId, String publicKeySha256) {
        update("UPDATE devices SET approved_key_sha256 = ?, updated_at = ? WHERE device_id = ?", publicKeySha256, deviceId);
    }

    private void update(String sql, String value, String deviceId) {
        tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, value);
                Sql.setInstant(ps, 2, clock.instant());
                ps.setString(3, deviceId);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public Page<Device> list(DeviceFilter filter, int page, int size) {
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        List<String> args = new ArrayList<>();
        if (filter.group() != null) {
            where.append(" AND group_name = ?");
            args.add(filter.group());
        }
        if (filter.status() != null) {
            where.append(" AND status = ?");
            args.add(filter.status().name());
        }
        if (filter.attestation() != null) {
            where.append(" AND attestation_result = ?");
            args.add(filter.attestation().name());
        }
        if (filter.idPrefix() != null) {
            where.append(" AND device_id LIKE ? ESCAPE '!'");
            args.add(filter.idPrefix().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
        }
        return tx.withConnection(c -> {
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM devices" + where)) {
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            List<Device> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + READ_COLUMNS + " FROM devices" + where
                    + " ORDER BY device_id LIMIT ? OFFSET ?")) {
                bind(ps, args);
                ps.setInt(args.size() + 1, size);
                ps.setLong(args.size() + 2, (long) page * size);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(map(rs));
                    }
                }
            }
            return new Page<>(items, page, size, total);
        });
    }

    /** Ids per statement when the filter lists devices explicitly: well under any driver's parameter limit. */
    private static final int IDS_PER_QUERY = 500;

    @Override
    public List<RevocationFilter.Candidate> matching(RevocationFilter filter) {
        List<List<String>> idChunks = new ArrayList<>();
        if (filter.deviceIds() == null) {
            idChunks.add(null);
        } else {
            List<String> ids = filter.deviceIds().stream().distinct().sorted().toList();
            for (int i = 0; i < ids.size(); i += IDS_PER_QUERY) {
                idChunks.add(ids.subList(i, Math.min(ids.size(), i + IDS_PER_QUERY)));
            }
        }
        List<RevocationFilter.Candidate> found = new ArrayList<>();
        for (List<String> ids : idChunks) {
            found.addAll(matching(filter, ids));
        }
        found.sort(java.util.Comparator.comparing(RevocationFilter.Candidate::deviceId));
        return found;
    }

    private List<RevocationFilter.Candidate> matching(RevocationFilter filter, List<String> ids) {
        StringBuilder sql = new StringBuilder("SELECT d.device_id, d.status");
        if (filter.looksAtAttestation()) {
            // The latest appraisal whose evidence verified: claims that did not verify never count.
            sql.append(", a.sw_version, a.measurements FROM devices d JOIN attestation_results a ON a.id = "
                    + "(SELECT MAX(l.id) FROM attestation_results l WHERE l.device_id = d.device_id "
                    + "AND l.result <> 'UNVERIFIED')");
        } else {
            sql.append(" FROM devices d");
        }
        sql.append(" WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (filter.group() != null) {
            sql.append(" AND d.group_name = ?");
            args.add(filter.group());
        }
        if (ids != null) {
            sql.append(" AND d.device_id IN (").append(String.join(", ", java.util.Collections.nCopies(ids.size(), "?")))
                    .append(')');
            args.addAll(ids);
        }
        if (filter.swVersion() != null) {
            sql.append(" AND a.sw_version = ?");
            args.add(filter.swVersion());
        }
        if (filter.sha256() != null) {
            sql.append(" AND a.measurements LIKE ?"); // narrows; the exact line is checked below
            args.add("%" + filter.sha256() + "%");
        }
        String firstIssued = "(SELECT MIN(c.issued_at) FROM certificates c WHERE c.device_id = d.device_id)";
        if (filter.enrolledFrom() != null) {
            sql.append(" AND ").append(firstIssued).append(" >= ?");
            args.add(filter.enrolledFrom());
        }
        if (filter.enrolledTo() != null) {
            sql.append(" AND ").append(firstIssued).append(" < ?");
            args.add(filter.enrolledTo());
        }
        return tx.withConnection(c -> {
            List<RevocationFilter.Candidate> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) {
                    if (args.get(i) instanceof java.time.Instant at) {
                        Sql.setInstant(ps, i + 1, at);
                    } else {
                        ps.setString(i + 1, (String) args.get(i));
                    }
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (filter.sha256() == null || reports(rs.getString("measurements"), filter)) {
                            found.add(new RevocationFilter.Candidate(rs.getString(1),
                                    DeviceStatus.valueOf(rs.getString(2))));
                        }
                    }
                }
            }
            return found;
        });
    }

    /** Whether the stored measurements ("component sha256 [version]" lines) hold the filter's component and digest. */
    private static boolean reports(String measurements, RevocationFilter filter) {
        for (String line : measurements.split("\n")) {
            String[] f = line.split(" ");
            if (f.length >= 2 && f[1].equals(filter.sha256())
                    && (filter.component() == null || f[0].equals(filter.component()))) {
                return true;
            }
        }
        return false;
    }

    private static void bind(PreparedStatement ps, List<String> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            ps.setString(i + 1, args.get(i));
        }
    }

    private static Device map(ResultSet rs) throws SQLException {
        return new Device(rs.getString("device_id"), rs.getString("group_name"),
                DeviceStatus.valueOf(rs.getString("status")), rs.getString("pending_key_sha256"),
                rs.getString("approved_key_sha256"), Sql.getInstant(rs, "created_at"),
                Sql.getInstant(rs, "updated_at"), rs.getString("attestation_result") == null ? null
                : AttestationResult.valueOf(rs.getString("attestation_result")), Sql.getInstant(rs, "attested_at"));
    }
}
