package io.fleetkey.simulator.factory;

/** A factory command could not do its work; the message says what to do about it. */
final class FactoryException extends Exception {
    private static final long serialVersionUID = 1L;

    FactoryException(String message) {
        super(message);
    }

    FactoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
