package io.fleetkey.server.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

import io.fleetkey.server.registry.CrlNumbers;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcCrlNumbers implements CrlNumbers {
    private final JdbcTransactions tx;

    public JdbcCrlNumbers(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public long next() {
        return tx.inTransaction(() -> tx.withConnection(c -> {
            // The UPDATE locks the one row: concurrent callers, on any node, get distinct increasing numbers.
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE crl_number SET last_number = last_number + 1 WHERE id = 1")) {
                if (ps.executeUpdate() != 1) {
                    throw new IllegalStateException("the crl_number row is missing; migration V2 seeds it");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT last_number FROM crl_number WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }));
    }
}
