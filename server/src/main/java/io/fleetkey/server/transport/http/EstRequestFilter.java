package io.fleetkey.server.transport.http;

import java.util.Locale;
import java.util.Optional;

import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Turns away EST posts with the wrong Content-Type (415) or a declared length over the limit
 * (413) before the body is read or bound, so no JSON or form decoder ever sees a CSR.
 */
@ServerFilter("/.well-known/est/**")
public class EstRequestFilter {
    private final int maxRequestBytes;

    public EstRequestFilter(FleetkeyConfiguration config) {
        this.maxRequestBytes = config.getEnrollment().getMaxRequestBytes();
    }

    @RequestFilter
    @Nullable
    public MutableHttpResponse<?> check(HttpRequest<?> request) {
        if (request.getMethod() != HttpMethod.POST) {
            return null;
        }
        Optional<MediaType> type = request.getContentType();
        // The nonce request of draft-ietf-lamps-attestation-freshness is JSON; every other EST post is a CSR.
        String expected = request.getPath().endsWith("/nonce") ? EstMediaTypes.ATTESTATION_FRESHNESS_JSON
                : EstMediaTypes.PKCS10;
        if (expected.equals(EstMediaTypes.ATTESTATION_FRESHNESS_JSON) && (type.isEmpty()
                || !expected.equals(type.get().getName().toLowerCase(Locale.ROOT)))) {
            return EstController.refused(FailureCode.UNSUPPORTED_MEDIA_TYPE, "send the nonce request as Content-Type "
                    + expected + "; got " + type.map(MediaType::toString).orElse("none"));
        }
        if (expected.equals(EstMediaTypes.ATTESTATION_FRESHNESS_JSON)) {
            return request.getContentLength() > EstController.MAX_NONCE_REQUEST_BYTES
                    ? EstController.refused(FailureCode.PAYLOAD_TOO_LARGE, "a nonce request is a small JSON object; "
                    + "at most " + EstController.MAX_NONCE_REQUEST_BYTES + " bytes are accepted") : null;
        }
        if (type.isEmpty() || !EstMediaTypes.PKCS10.equals(type.get().getName().toLowerCase(Locale.ROOT))) {
            return EstController.refused(FailureCode.UNSUPPORTED_MEDIA_TYPE, "send the CSR as Content-Type "
                    + EstMediaTypes.PKCS10 + " (base64-encoded DER); got " + type.map(MediaType::toString).orElse("none"));
        }
        long length = request.getContentLength();
        if (length > maxRequestBytes) {
            return EstController.refused(FailureCode.PAYLOAD_TOO_LARGE, "the body has " + length
                    + " bytes; at most " + maxRequestBytes + " are accepted");
        }
        return null;
    }
}
