package io.fleetkey.server.transport.http;

import io.fleetkey.server.health.DoorReadiness;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.runtime.server.event.ServerStartupEvent;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reports the HTTPS door ready once Netty listens, and tells the operator where. */
@Singleton
@Context
public class HttpsDoor implements ApplicationEventListener<ServerStartupEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(HttpsDoor.class);
    static final String NAME = "est-https";

    private final DoorReadiness readiness;

    public HttpsDoor(DoorReadiness readiness) {
        this.readiness = readiness;
        readiness.expect(NAME);
    }

    @Override
    public void onApplicationEvent(ServerStartupEvent event) {
        readiness.ready(NAME);
        LOG.info("Fleetkey is ready: EST over HTTPS and the fleet API at https://{}:{}/ (health: /health)",
                event.getSource().getHost(), event.getSource().getPort());
    }
}
