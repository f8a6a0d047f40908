package io.fleetkey.server.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.fleetkey.server.registry.DeviceRevoked;
import io.micronaut.context.event.ApplicationEventListener;
import jakarta.inject.Singleton;

/** Keeps every {@link DeviceRevoked} event a test server publishes, as a listener elsewhere in the server would see it. */
@Singleton
public class RecordedRevocations implements ApplicationEventListener<DeviceRevoked> {
    private final List<DeviceRevoked> events = new CopyOnWriteArrayList<>();

    @Override
    public void onApplicationEvent(DeviceRevoked event) {
        events.add(event);
    }

    public List<DeviceRevoked> events() {
        return List.copyOf(events);
    }
}
