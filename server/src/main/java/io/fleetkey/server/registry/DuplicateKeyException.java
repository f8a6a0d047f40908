package io.fleetkey.server.registry;

/** An insert clashed with an existing key (device id, group name, serial). */
public class DuplicateKeyException extends RuntimeException {
    public DuplicateKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
