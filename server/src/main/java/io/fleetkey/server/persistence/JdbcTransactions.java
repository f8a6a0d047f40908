package io.fleetkey.server.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import javax.sql.DataSource;

import io.fleetkey.server.registry.Transactions;
import jakarta.inject.Singleton;

/**
 * {@link Transactions} over a JDBC {@link DataSource}: the transaction's connection is bound
 * to the calling thread, and every Jdbc repository uses it through {@link #withConnection}.
 */
@Singleton
public final class JdbcTransactions implements Transactions {
    private final DataSource dataSource;
    private final ThreadLocal<Connection> current = new ThreadLocal<>();
    private final ThreadLocal<Map<Object, Runnable>> beforeCommit = new ThreadLocal<>();

    public JdbcTransactions(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Work on a connection: the thread's transaction if one is open, else a fresh auto-commit one. */
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    @Override
    public <T> T inTransaction(Supplier<T> work) {
        if (current.get() != null) {
            return work.get();
        }
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            current.set(connection);
            Map<Object, Runnable> hooks = new LinkedHashMap<>();
            beforeCommit.set(hooks);
            try {
                T result = work.get();
                hooks.values().forEach(Runnable::run);
                connection.commit();
                return result;
            } catch (RuntimeException | Error e) {
                rollbackQuietly(connection, e);
                throw e;
            } catch (Exception e) {
                rollbackQuietly(connection, e);
                throw new RegistryException("transaction failed", e);
            } finally {
                current.remove();
                beforeCommit.remove();
                restoreAutoCommit(connection);
            }
        } catch (SQLException e) {
            throw new RegistryException("registry unavailable: " + e.getMessage(), e);
        }
    }

    /** True when the calling thread is inside {@link #inTransaction}. */
    public boolean inTransactionNow() {
        return current.get() != null;
    }

    /**
     * Registers work to run last in the thread's transaction, after its work and just before the
     * commit, once per {@code key}: the hook registered first for a key is returned to later
     * callers with that key. Nothing runs if the transaction rolls back. Lets a lock that every
     * writer needs (the audit chain head) be taken as late as possible and held only briefly.
     *
     * @throws IllegalStateException outside a transaction
     */
    @SuppressWarnings("unchecked")
    public <H extends Runnable> H beforeCommit(Object key, Supplier<H> hook) {
        Map<Object, Runnable> hooks = beforeCommit.get();
        if (hooks == null) {
            throw new IllegalStateException("no transaction on this thread");
        }
        return (H) hooks.computeIfAbsent(key, k -> hook.get());
    }

    /** Runs SQL on the thread's transaction, or on its own auto-commit connection. */
    public <T> T withConnection(SqlWork<T> work) {
        Connection bound = current.get();
        try {
            if (bound != null) {
                return work.run(bound);
            }
            try (Connection connection = dataSource.getConnection()) {
                return work.run(connection);
            }
        } catch (SQLException e) {
            throw SqlErrors.translate(e);
        }
    }

    /** Back to auto-commit before the pool gets the connection; a failure here closes it instead. */
    private static void restoreAutoCommit(Connection connection) {
        try {
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the pool discards a broken connection either way
            }
        }
    }

    private static void rollbackQuietly(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
