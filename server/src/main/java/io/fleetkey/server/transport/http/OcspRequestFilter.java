package io.fleetkey.server.transport.http;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Turns away OCSP posts with the wrong Content-Type (415) or a declared length over
 * {@code fleetkey.ocsp.max-request-bytes} (413) before the body is read: these are HTTP mistakes,
 * answered with the project's error body, not OCSP ones.
 */
@ServerFilter(CertificateAuthority.OCSP_PATH)
public class OcspRequestFilter {
    private final int maxRequestBytes;

    public OcspRequestFilter(FleetkeyConfiguration config) {
        this.maxRequestBytes = config.getOcsp().getMaxRequestBytes();
    }

    @RequestFilter
    @Nullable
    public MutableHttpResponse<?> check(HttpRequest<?> request) {
        if (request.getMethod() != HttpMethod.POST) {
            return null;
        }
        Optional<MediaType> type = request.getContentType();
        if (type.isEmpty() || !OcspController.OCSP_REQUEST.equals(type.get().getName().toLowerCase(Locale.ROOT))) {
            return refused(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "send the DER OCSPRequest as Content-Type "
                    + OcspController.OCSP_REQUEST + "; got " + type.map(MediaType::toString).orElse("none"));
        }
        long length = request.getContentLength();
        return length > maxRequestBytes ? tooLarge(length, maxRequestBytes) : null;
    }

    static MutableHttpResponse<?> tooLarge(long length, int maxRequestBytes) {
        return refused(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "the body has " + length + " bytes; at most "
                + maxRequestBytes + " are accepted (fleetkey.ocsp.max-request-bytes)");
    }

    private static MutableHttpResponse<?> refused(HttpStatus status, String reason) {
        io.fleetkey.server.enrollment.RejectedTraffic.log("OCSP", status.getCode() + ": " + reason);
        return HttpResponse.status(status).header(OcspController.REASON_HEADER, reason)
                .body(Map.of("error", status.name(), "message", reason));
    }
}
