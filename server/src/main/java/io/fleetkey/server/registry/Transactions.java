package io.fleetkey.server.registry;

import java.util.function.Supplier;

/**
 * Runs work in one registry transaction: every repository call made by the work on the same
 * thread commits or rolls back together. Nested calls join the outer transaction.
 */
public interface Transactions {
    <T> T inTransaction(Supplier<T> work);
}
