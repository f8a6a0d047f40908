package io.fleetkey.server.config;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

import io.fleetkey.server.ocsp.OcspResponder;
import io.fleetkey.server.ocsp.OcspSigning;
import io.fleetkey.server.registry.DeviceRevoked;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.TaskScheduler;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the OCSP responder current: every revocation empties its response cache at once, and the
 * delegated signing certificate is checked at start-up (before the HTTPS port opens) and then a few
 * times within each renew-before period, so it is renewed long before it expires and a failed
 * renewal is tried again.
 */
@Context
public class OcspTriggers implements ApplicationEventListener<DeviceRevoked> {
    private static final Logger LOG = LoggerFactory.getLogger(OcspTriggers.class);
    private static final Duration MOST_BETWEEN_CHECKS = Duration.ofHours(1);

    private final OcspResponder responder;
    private final OcspSigning signing;
    private final Clock clock;
    private final ScheduledFuture<?> schedule;

    public OcspTriggers(OcspResponder responder, OcspSigning signing, Clock clock, FleetkeyConfiguration config,
                        @Named(TaskExecutors.SCHEDULED) TaskScheduler scheduler) {
        this.responder = responder;
        this.signing = signing;
        this.clock = clock;
        Duration quarter = config.getOcsp().getSignerRenewBefore().dividedBy(4);
        Duration every = quarter.compareTo(MOST_BETWEEN_CHECKS) < 0 ? quarter : MOST_BETWEEN_CHECKS;
        this.schedule = scheduler.scheduleWithFixedDelay(every, every, this::renewIfDue);
    }

    @Override
    public void onApplicationEvent(DeviceRevoked event) {
        responder.statusChanged();
    }

    @PreDestroy
    void stop() {
        schedule.cancel(false);
    }

    void renewIfDue() {
        try {
            if (signing.renewIfDue(clock.instant())) {
                responder.statusChanged();
            }
        } catch (RuntimeException e) {
            LOG.error("Could not renew the OCSP signing certificate; the current one stays until the next attempt: {}",
                    e.getMessage(), e);
        }
    }
}
