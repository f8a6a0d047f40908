package io.fleetkey.simulator.report;

/** How one operation of one device ended. */
public enum Outcome {
    SUCCEEDED,
    /** The server answered and said no, with a reason (an EST failure code, a CoAP or MQTT reply code). */
    REFUSED,
    /** No answer to count on: a timeout, a broken connection, a client-side error. */
    FAILED,
    /** Never started, because the run's time ran out or the run was stopped. */
    NOT_RUN;

    public boolean unsuccessful() {
        return this != SUCCEEDED;
    }
}
