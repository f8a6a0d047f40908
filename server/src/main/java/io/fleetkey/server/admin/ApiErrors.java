package io.fleetkey.server.admin;

import io.fleetkey.server.admin.ApiViews.CountChangedView;
import io.fleetkey.server.admin.ApiViews.ErrorView;
import io.fleetkey.server.registry.FleetException;
import io.fleetkey.server.registry.FleetService;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/** Fleet-manager mistakes become 400/404/409 with a readable message. */
@Produces
@Singleton
@Requires(classes = {FleetException.class, ExceptionHandler.class})
public class ApiErrors implements ExceptionHandler<FleetException, HttpResponse<?>> {
    @Override
    public HttpResponse<?> handle(HttpRequest request, FleetException e) {
        HttpStatus status = switch (e.kind()) {
            case INVALID -> HttpStatus.BAD_REQUEST;
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case CONFLICT -> HttpStatus.CONFLICT;
        };
        if (e instanceof FleetService.MatchCountChanged changed) {
            return HttpResponse.status(status).body(new CountChangedView(e.kind().name(), e.getMessage(),
                    changed.matched()));
        }
        return HttpResponse.status(status).body(new ErrorView(e.kind().name(), e.getMessage()));
    }
}
