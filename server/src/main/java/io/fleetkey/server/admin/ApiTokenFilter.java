package io.fleetkey.server.admin;

import java.util.Map;
import java.util.Optional;

import io.fleetkey.server.config.FleetkeyConfiguration;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.core.annotation.Nullable;

/**
 * Closes the fleet API, and the Prometheus scrape endpoint unless it was made public
 * (FLEETKEY_METRICS_PUBLIC), to any request without a valid bearer token (401).
 */
@ServerFilter({"/api/**", ApiTokenFilter.METRICS_PATH, ApiTokenFilter.METRICS_PATH + "/**"})
public class ApiTokenFilter {
    /** Where Micronaut's Prometheus endpoint answers. */
    static final String METRICS_PATH = "/prometheus";

    /** Request attribute holding the authenticated token's name, for audit records. */
    public static final String ACTOR = "fleetkey.actor";

    private final ApiTokens tokens;
    private final boolean metricsPublic;

    public ApiTokenFilter(ApiTokens tokens, FleetkeyConfiguration config) {
        this.tokens = tokens;
        this.metricsPublic = config.getMetrics().isPublic();
    }

    @RequestFilter
    @Nullable
    public MutableHttpResponse<?> authenticate(HttpRequest<?> request) {
        // Any path under /api keeps its token, whatever else the patterns above let through.
        if (metricsPublic && !request.getPath().startsWith("/api")) {
            return null;
        }
        Optional<String> header = request.getHeaders().getAuthorization();
        String token = header.filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(h -> h.substring(7).trim()).orElse(null);
        Optional<String> actor = tokens.authenticate(token);
        if (actor.isEmpty()) {
            return HttpResponse.status(HttpStatus.UNAUTHORIZED)
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"fleetkey-api\"")
                    .body(Map.of("error", "UNAUTHORIZED", "message", header.isEmpty()
                            ? "send an API token as 'Authorization: Bearer <token>'"
                            : "the API token is not valid"));
        }
        request.setAttribute(ACTOR, "api:" + actor.get());
        return null;
    }
}
