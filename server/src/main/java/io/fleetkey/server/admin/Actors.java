package io.fleetkey.server.admin;

import io.micronaut.http.HttpRequest;

/** Who made an API call, as the audit log names them. */
final class Actors {
    private Actors() {
    }

    static String of(HttpRequest<?> request) {
        return request.getAttribute(ApiTokenFilter.ACTOR, String.class).orElse("api:unknown");
    }
}
