package io.fleetkey.server.enrollment;

import io.fleetkey.protocol.FailureCode;

/** A step of the enrollment pipeline either yields a value or a refusal. */
sealed interface Outcome<T> {
    record Ok<T>(T value) implements Outcome<T> {
    }

    record No<T>(EnrollmentResult.Refused refused) implements Outcome<T> {
    }

    static <T> Outcome<T> ok(T value) {
        return new Ok<>(value);
    }

    static <T> Outcome<T> no(FailureCode code, String reason) {
        return new No<>(new EnrollmentResult.Refused(code, reason));
    }
}
