package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.CertificateStatus;
import io.fleetkey.server.registry.IssuedCertificate;
import io.fleetkey.server.registry.RevocationReason;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcCertificateRepository implements CertificateRepository {
    private static final String COLUMNS = "serial, device_id, subject, profile, public_key_sha256, not_before, "
            + "not_after, issued_at, status, revoked_at, revocation_reason, der";

    private final JdbcTransactions tx;

    public JdbcCertificateRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public void insert(IssuedCertificate c) {
        tx.withConnection(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO certificates (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, c.serialHex());
                ps.setString(2, c.deviceId());
                ps.setString(3, c.subject());
                ps.setString(4, c.profile());
                ps.setString(5, c.publicKeySha256());
                Sql.setInstant(ps, 6, c.notBefore());
                Sql.setInstant(ps, 7, c.notAfter());
                Sql.setInstant(ps, 8, c.issuedAt());
                ps.setString(9, c.status().name());
                Sql.setInstant(ps, 10, c.revokedAt());
                if (c.revocationReason() == null) {
                    ps.setNull(11, Types.SMALLINT);
                } else {
                    ps.setShort(11, (short) c.revocationReason().code());
                }
                ps.setBytes(12, c.der());
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public Optional<IssuedCertificate> find(String serialHex) {
        return tx.withConnection(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM certificates WHERE serial = ?")) {
                ps.setString(1, serialHex);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Optional<Revocation> revocation(String serialHex) {
        return tx.withConnection(conn -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT status, revoked_at, revocation_reason FROM certificates WHERE serial = ?")) {
                ps.setString(1, serialHex);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Revocation(CertificateStatus.valueOf(rs.getString("status")),
                            Sql.getInstant(rs, "revoked_at"), reason(rs))) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<IssuedCertificate> forDevice(String deviceId) {
        return tx.withConnection(conn -> {
            List<IssuedCertificate> result = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS
                    + " FROM certificates WHERE device_id = ? ORDER BY issued_at DESC, serial")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        result.add(map(rs));
                    }
                }
            }
            return result;
        });
    }

    @Override
    public List<String> revokeAllOf(String deviceId, RevocationReason reason, Instant revokedAt) {
        return tx.inTransaction(() -> tx.withConnection(conn -> {
            // The caller holds the device row's lock, so no certificate of this device appears in between.
            List<String> serials = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT serial FROM certificates WHERE device_id = ? AND status = 'GOOD' ORDER BY serial")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        serials.add(rs.getString(1));
                    }
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("UPDATE certificates SET status = 'REVOKED', "
                    + "revoked_at = ?, revocation_reason = ? WHERE device_id = ? AND status = 'GOOD'")) {
                Sql.setInstant(ps, 1, revokedAt);
                ps.setShort(2, (short) reason.code());
                ps.setString(3, deviceId);
                ps.executeUpdate();
            }
            return serials;
        }));
    }

    @Override
    public List<RevokedCertificate> revokedExpiringAfter(Instant instant) {
        return tx.withConnection(conn -> {
            List<RevokedCertificate> result = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement("SELECT serial, revoked_at, revocation_reason "
                    + "FROM certificates WHERE status = 'REVOKED' AND not_after > ? ORDER BY revoked_at, serial")) {
                Sql.setInstant(ps, 1, instant);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        result.add(new RevokedCertificate(rs.getString("serial"), Sql.getInstant(rs, "revoked_at"),
                                reason(rs)));
                    }
                }
            }
            return result;
        });
    }

    private static IssuedCertificate map(ResultSet rs) throws SQLException {
        return new IssuedCertificate(rs.getString("serial"), rs.getString("device_id"), rs.getString("subject"),
                rs.getString("profile"), rs.getString("public_key_sha256"), Sql.getInstant(rs, "not_before"),
                Sql.getInstant(rs, "not_after"), Sql.getInstant(rs, "issued_at"),
                CertificateStatus.valueOf(rs.getString("status")), Sql.getInstant(rs, "revoked_at"),
                reason(rs), rs.getBytes("der"));
    }

    private static RevocationReason reason(ResultSet rs) throws SQLException {
        short code = rs.getShort("revocation_reason");
        return rs.wasNull() ? null : RevocationReason.ofCode(code);
    }
}
