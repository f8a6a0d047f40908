package io.fleetkey.server.health;

import java.util.Map;
import java.util.TreeMap;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;
import io.micronaut.core.async.publisher.Publishers;

/**
 * GET /health is UP only once every enrollment door that started has said it is ready.
 * Each door calls {@link #expect} when it begins to start and {@link #ready} when it serves.
 */
@Singleton
public class DoorReadiness implements HealthIndicator {
    private final Map<String, Boolean> doors = new TreeMap<>();

    public synchronized void expect(String door) {
        doors.putIfAbsent(door, false);
    }

    public synchronized void ready(String door) {
        doors.put(door, true);
    }

    /** A door that served has lost what it needs (e.g. its broker) and does not serve until {@link #ready} again. */
    public synchronized void down(String door) {
        doors.put(door, false);
    }

    /** True when the door is expected and does not serve (yet, or any more); false when it serves or is not expected. */
    public synchronized boolean waitingFor(String door) {
        return Boolean.FALSE.equals(doors.get(door));
    }

    /** Each door that started, and whether it serves yet. */
    public synchronized Map<String, Boolean> doors() {
        return Map.copyOf(doors);
    }

    public synchronized boolean allReady() {
        return !doors.isEmpty() && doors.values().stream().allMatch(Boolean::booleanValue);
    }

    @Override
    public synchronized Publisher<HealthResult> getResult() {
        HealthStatus status = allReady() ? HealthStatus.UP : HealthStatus.DOWN;
        return Publishers.just(HealthResult.builder("doors", status).details(Map.copyOf(doors)).build());
    }
}
