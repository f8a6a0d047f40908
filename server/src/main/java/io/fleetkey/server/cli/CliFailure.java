package io.fleetkey.server.cli;

/**
 * An expected failure of a command: one message for the user that says what to do, and the
 * exit status ({@link FleetkeyCli#REFUSED}, {@link FleetkeyCli#USAGE}, ...). Never a bug.
 */
final class CliFailure extends RuntimeException {
    private final int exitCode;

    CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
