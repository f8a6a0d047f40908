package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;

import io.fleetkey.server.registry.NonceRepository;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcNonceRepository implements NonceRepository {
    private final JdbcTransactions tx;

    public JdbcNonceRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public void insert(String nonceSha256, Instant issuedAt, Instant expiresAt) {
        tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO attestation_nonces (nonce_sha256, issued_at, expires_at) VALUES (?, ?, ?)")) {
                ps.setString(1, nonceSha256);
                Sql.setInstant(ps, 2, issuedAt);
                Sql.setInstant(ps, 3, expiresAt);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public Spend spend(String nonceSha256, String keySha256, Instant now) {
        return tx.withConnection(c -> {
            // One UPDATE decides, so two nodes cannot both spend the same nonce.
            try (PreparedStatement ps = c.prepareStatement("UPDATE attestation_nonces SET used_at = ?, "
                    + "used_key_sha256 = ? WHERE nonce_sha256 = ? AND used_at IS NULL AND expires_at > ?")) {
                Sql.setInstant(ps, 1, now);
                ps.setString(2, keySha256);
                ps.setString(3, nonceSha256);
                Sql.setInstant(ps, 4, now);
                if (ps.executeUpdate() == 1) {
                    return Spend.SPENT;
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT used_key_sha256 FROM attestation_nonces WHERE nonce_sha256 = ? AND used_at IS NOT NULL")) {
                ps.setString(1, nonceSha256);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Spend.UNKNOWN_OR_EXPIRED;
                    }
                    return keySha256.equals(rs.getString(1)) ? Spend.ALREADY_SPENT_BY_THIS_KEY : Spend.USED;
                }
            }
        });
    }

    @Override
    public Spend peek(String nonceSha256, String keySha256, Instant now) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT used_key_sha256, expires_at FROM attestation_nonces WHERE nonce_sha256 = ?")) {
                ps.setString(1, nonceSha256);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Spend.UNKNOWN_OR_EXPIRED;
                    }
                    String usedBy = rs.getString(1);
                    if (usedBy != null) {
                        return keySha256.equals(usedBy) ? Spend.ALREADY_SPENT_BY_THIS_KEY : Spend.USED;
                    }
                    return Sql.getInstant(rs, "expires_at").isAfter(now) ? Spend.FRESH : Spend.UNKNOWN_OR_EXPIRED;
                }
            }
        });
    }

    @Override
    public int deleteExpiredBefore(Instant time) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM attestation_nonces WHERE expires_at < ?")) {
                Sql.setInstant(ps, 1, time);
                return ps.executeUpdate();
            }
        });
    }
}
