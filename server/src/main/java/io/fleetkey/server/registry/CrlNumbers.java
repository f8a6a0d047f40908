package io.fleetkey.server.registry;

/** The issuing CA's CRL numbers (RFC 5280 §5.2.3), kept in the registry every node shares. */
public interface CrlNumbers {
    /**
     * Draws the next CRL number: larger than every number drawn before, by this node or any other,
     * before or after a restart. Joins the caller's transaction and holds the counter's lock until
     * it ends, so a CRL built in that transaction holds everything an earlier-numbered one held.
     */
    long next();
}
