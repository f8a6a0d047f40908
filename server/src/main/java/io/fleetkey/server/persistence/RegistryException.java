package io.fleetkey.server.persistence;

/** The registry's database failed (not a bad request): broken infrastructure, never a decision. */
public class RegistryException extends RuntimeException {
    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}
