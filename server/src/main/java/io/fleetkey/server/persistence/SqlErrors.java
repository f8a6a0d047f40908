package io.fleetkey.server.persistence;

import java.sql.SQLException;

import io.fleetkey.server.registry.DuplicateKeyException;

/** Maps SQL errors to registry exceptions. SQLState class 23 is an integrity violation in H2 and PostgreSQL. */
final class SqlErrors {
    private SqlErrors() {
    }

    static RuntimeException translate(SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.equals("23505") || state.equals("23001"))) {
            return new DuplicateKeyException("duplicate key: " + e.getMessage(), e);
        }
        return new RegistryException("registry query failed: " + e.getMessage(), e);
    }
}
