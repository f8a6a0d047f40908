package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import io.fleetkey.server.registry.ApiTokenRepository;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcApiTokenRepository implements ApiTokenRepository {
    private final JdbcTransactions tx;

    public JdbcApiTokenRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public Map<String, String> all() {
        return tx.withConnection(c -> {
            Map<String, String> tokens = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT token_sha256, name FROM api_tokens");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tokens.put(rs.getString(1), rs.getString(2));
                }
            }
            return tokens;
        });
    }

    @Override
    public void insert(String tokenSha256, String name, Instant createdAt) {
        tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO api_tokens (token_sha256, name, created_at) VALUES (?, ?, ?)")) {
                ps.setString(1, tokenSha256);
                ps.setString(2, name);
                Sql.setInstant(ps, 3, createdAt);
                return ps.executeUpdate();
            }
        });
    }
}
