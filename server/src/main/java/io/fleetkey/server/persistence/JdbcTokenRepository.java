package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Optional;

import io.fleetkey.server.registry.EnrollmentToken;
import io.fleetkey.server.registry.TokenRepository;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcTokenRepository implements TokenRepository {
    private final JdbcTransactions tx;

    public JdbcTokenRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public Optional<EnrollmentToken> find(String deviceId) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, token_sha256, expires_at, used_at, "
                    + "used_serial FROM enrollment_tokens WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new EnrollmentToken(rs.getString(1), rs.getString(2),
                            Sql.getInstant(rs, "expires_at"), Sql.getInstant(rs, "used_at"), rs.getString(5)));
                }
            }
        });
    }

    @Override
    public void put(EnrollmentToken token) {
        tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM enrollment_tokens WHERE device_id = ?")) {
                del.setString(1, token.deviceId());
                del.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_tokens "
                    + "(device_id, token_sha256, expires_at, used_at, used_serial) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, token.deviceId());
                ps.setString(2, token.tokenSha256());
                Sql.setInstant(ps, 3, token.expiresAt());
                Sql.setInstant(ps, 4, token.usedAt());
                ps.setString(5, token.usedSerial());
                return ps.executeUpdate();
            }
        }));
    }

    @Override
    public boolean spend(String deviceId, String tokenSha256, Instant usedAt, String serialHex) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_tokens SET used_at = ?, used_serial = ? "
                    + "WHERE device_id = ? AND token_sha256 = ? AND used_at IS NULL")) {
                Sql.setInstant(ps, 1, usedAt);
                ps.setString(2, serialHex);
                ps.setString(3, deviceId);
                ps.setString(4, tokenSha256);
                return ps.executeUpdate() == 1;
            }
        });
    }
}
