package io.fleetkey.server.config;

import io.fleetkey.server.enrollment.FreshnessNonces;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Forgets expired freshness nonces, an hour after they expired (so a late retry is still recognised). */
@Singleton
public class NonceHousekeeping {
    private static final Logger LOG = LoggerFactory.getLogger(NonceHousekeeping.class);
    private final FreshnessNonces nonces;

    public NonceHousekeeping(FreshnessNonces nonces) {
        this.nonces = nonces;
    }

    @Scheduled(fixedDelay = "10m", initialDelay = "1m")
    void forgetExpired() {
        try {
            int forgotten = nonces.forgetExpired(java.time.Duration.ofHours(1));
            if (forgotten > 0) {
                LOG.debug("Forgot {} expired freshness nonces", forgotten);
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not forget expired freshness nonces: {}", e.toString());
        }
    }
}
