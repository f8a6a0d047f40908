package io.fleetkey.server.config;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

import io.fleetkey.server.authority.CrlPublisher;
import io.fleetkey.server.registry.DeviceRevoked;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.core.order.Ordered;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.TaskScheduler;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the CRL is published: at start-up, before the HTTPS port opens, so {@code /crl} always has
 * one; after every revocation, before any other {@link DeviceRevoked} listener runs, so those find
 * the new CRL already out; and every {@code fleetkey.crl.republish-every}, so a fresh CRL is out
 * long before the last one's nextUpdate, and a publication that failed is made up for.
 */
@Context
public class CrlTriggers implements ApplicationEventListener<DeviceRevoked>, Ordered {
    private static final Logger LOG = LoggerFactory.getLogger(CrlTriggers.class);

    private final CrlPublisher publisher;
    private final ScheduledFuture<?> schedule;

    public CrlTriggers(CrlPublisher publisher, FleetkeyConfiguration config,
                       @Named(TaskExecutors.SCHEDULED) TaskScheduler scheduler) {
        this.publisher = publisher;
        publisher.publishNow(); // a failure stops the start: the CRL URL must never go without a CRL
        Duration every = config.getCrl().getRepublishEvery();
        this.schedule = scheduler.scheduleWithFixedDelay(every, every, () -> republish("the schedule", publisher::publishNow));
    }

    @Override
    public void onApplicationEvent(DeviceRevoked event) {
        // Devices revoked together in one transaction share the first one's CRL.
        republish("the revocation of device " + event.deviceId(),
                () -> publisher.publishUnlessListed(event.revokedSerials()));
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE;
    }

    @PreDestroy
    void stop() {
        schedule.cancel(false);
    }

    private void republish(String trigger, Runnable publication) {
        try {
            publication.run();
        } catch (RuntimeException e) {
            LOG.error("Could not publish the CRL after {}; the previous one stays until the next attempt: {}",
                    trigger, e.getMessage(), e);
        }
    }
}
