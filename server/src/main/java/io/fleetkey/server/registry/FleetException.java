package io.fleetkey.server.registry;

/** A fleet-manager request that cannot be carried out as asked; the message says why and what to do. */
public class FleetException extends RuntimeException {
    /** What kind of problem, so the API can pick a status. */
    public enum Kind { INVALID, NOT_FOUND, CONFLICT }

    private final Kind kind;

    public FleetException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
