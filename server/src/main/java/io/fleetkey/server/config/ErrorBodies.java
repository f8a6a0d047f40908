package io.fleetkey.server.config;

import java.util.LinkedHashMap;
import java.util.Map;

import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;

/**
 * Shapes every error Micronaut itself answers (bad JSON, 404, 405, 413, 415, 500) as
 * {@code {"error": ..., "message": ...}} without exception details: a 500 says only that
 * something failed and where to look; the cause goes to the server log.
 */
@Singleton
public class ErrorBodies implements ErrorResponseProcessor<Map<String, Object>> {
    @Override
    public MutableHttpResponse<Map<String, Object>> processResponse(ErrorContext context, MutableHttpResponse<?> base) {
        Map<String, Object> body = new LinkedHashMap<>();
        int status = base.getStatus().getCode();
        body.put("error", base.getStatus().name());
        String message;
        if (status >= 500) {
            message = "the server failed to handle the request; the server log has the details";
        } else if (status == 413) {
            message = "the request body is too large";
        } else if (status == 415) {
            message = "unsupported Content-Type for this resource";
        } else {
            message = context.getErrors().stream().findFirst().map(Error::getMessage).map(ErrorBodies::plain)
                    .orElse(base.getStatus().getReason());
        }
        body.put("message", message);
        return base.body(body);
    }

    /** Keeps the first line of a parser's message, without its source-location trailer. */
    private static String plain(String message) {
        int cut = message.indexOf("\n at [Source:");
        String first = cut >= 0 ? message.substring(0, cut) : message;
        return first.lines().findFirst().orElse(first);
    }
}
