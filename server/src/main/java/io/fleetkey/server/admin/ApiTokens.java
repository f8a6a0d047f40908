package io.fleetkey.server.admin;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.registry.ApiTokenRepository;
import io.fleetkey.server.util.Digests;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens of the fleet API. The first admin token comes from FLEETKEY_ADMIN_TOKEN, or is
 * generated at first start and printed once; only hashes are stored. Hashes are cached in
 * memory so the check does not block the event loop.
 */
@Context
public class ApiTokens {
    private static final Logger LOG = LoggerFactory.getLogger(ApiTokens.class);
    static final int MIN_TOKEN_LENGTH = 16;

    private final ApiTokenRepository repository;
    private final FleetkeyConfiguration config;
    private final Clock clock;
    private final Map<String, String> namesByHash = new ConcurrentHashMap<>();

    public ApiTokens(ApiTokenRepository repository, FleetkeyConfiguration config, Clock clock) {
        this.repository = repository;
        this.config = config;
        this.clock = clock;
    }

    @PostConstruct
    void init() {
        namesByHash.putAll(repository.all());
        String configured = config.getAdminToken();
        if (configured != null && !configured.isBlank()) {
            if (configured.length() < MIN_TOKEN_LENGTH) {
                throw new IllegalStateException("FLEETKEY_ADMIN_TOKEN is too short: use at least "
                        + MIN_TOKEN_LENGTH + " random characters, e.g. from `openssl rand -hex 24`");
            }
            String hash = Digests.sha256Hex(configured);
            if (!namesByHash.containsKey(hash)) {
                repository.insert(hash, "admin (FLEETKEY_ADMIN_TOKEN)", clock.instant());
                namesByHash.put(hash, "admin (FLEETKEY_ADMIN_TOKEN)");
            }
        } else if (namesByHash.isEmpty()) {
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            repository.insert(Digests.sha256Hex(token), "admin (generated)", clock.instant());
            namesByHash.put(Digests.sha256Hex(token), "admin (generated)");
            // Shown once, on the console only: it is not stored anywhere in clear.
            System.out.println("""

                    ==================================================================
                     Fleetkey generated the first admin API token. It is shown once:

                         %s

                     Use it as:  Authorization: Bearer <token>
                     Set FLEETKEY_ADMIN_TOKEN to choose your own instead.
                    ==================================================================
                    """.formatted(token));
            LOG.warn("Generated the first admin API token and printed it on the console once");
        }
    }

    /** The token's name when the bearer token is valid. */
    public Optional<String> authenticate(String bearerToken) {
        if (bearerToken == null || bearerToken.isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(namesByHash.get(Digests.sha256Hex(bearerToken)));
    }
}
