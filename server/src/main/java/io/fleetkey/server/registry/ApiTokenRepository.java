package io.fleetkey.server.registry;

import java.time.Instant;
import java.util.Map;

/** Bearer tokens of the fleet API, stored as SHA-256 hashes only. */
public interface ApiTokenRepository {
    /** Every token hash with its name. */
    Map<String, String> all();

    void insert(String tokenSha256, String name, Instant createdAt);
}
