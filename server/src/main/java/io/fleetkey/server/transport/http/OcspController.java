package io.fleetkey.server.transport.http;

import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.ocsp.OcspAnswer;
import io.fleetkey.server.ocsp.OcspResponder;
import io.fleetkey.server.ocsp.SigningThreads;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * The OCSP responder over HTTP (RFC 6960 Appendix A, RFC 5019 §5): a DER OCSPRequest as a POST
 * body or base64 and URL-encoded in a GET path, a DER OCSPResponse back. Every answer is 200 with
 * an OCSPResponse, refusals included (malformedRequest, unauthorized), with the reason in
 * {@code Fleetkey-Reason}; {@link OcspRequestFilter} turns away wrong media types and large bodies
 * first. Public like the CRL: no token. A response the responder has cached is sent from the event
 * loop; everything else (registry, signature) runs on the OCSP signing threads, and when their
 * queue is full the answer is tryLater at once.
 */
@Controller(CertificateAuthority.OCSP_PATH)
@Tag(name = "OCSP", description = "Online certificate status, RFC 6960")
public class OcspController {
    /** RFC 6960 Appendix C.1. */
    static final String OCSP_REQUEST = "application/ocsp-request";
    /** RFC 6960 Appendix C.2. */
    static final String OCSP_RESPONSE = "application/ocsp-response";
    static final String REASON_HEADER = "Fleetkey-Reason";

    private final OcspResponder responder;
    private final int maxRequestBytes;
    private final SigningThreads signers;

    public OcspController(OcspResponder responder, FleetkeyConfiguration config, SigningThreads signers) {
        this.responder = responder;
        this.maxRequestBytes = config.getOcsp().getMaxRequestBytes();
        this.signers = signers;
    }

    @Operation(summary = "Certificate status for a DER OCSPRequest (RFC 6960 §A.1.1)")
    @Post(consumes = MediaType.ALL, produces = OCSP_RESPONSE)
    public CompletableFuture<HttpResponse<?>> post(HttpRequest<?> request, @Nullable @Body byte[] body) {
        if (body != null && body.length > maxRequestBytes) { // a chunked body declares no length up front
            return CompletableFuture.completedFuture(OcspRequestFilter.tooLarge(body.length, maxRequestBytes));
        }
        return answer(body, request);
    }

    @Operation(summary = "Certificate status for a base64, URL-encoded DER OCSPRequest in the path (RFC 5019 §5)")
    @Get(uri = "/{+encoded}", produces = OCSP_RESPONSE)
    public CompletableFuture<HttpResponse<?>> get(HttpRequest<?> request, String encoded) {
        // The raw path: base64 may hold '/' and '+', which the router's decoded variable does not keep apart.
        String raw = request.getUri().getRawPath();
        String text = raw.substring(raw.indexOf(CertificateAuthority.OCSP_PATH) + CertificateAuthority.OCSP_PATH.length() + 1);
        byte[] der;
        try {
            der = Base64.getDecoder().decode(URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(encode(responder.refuseMalformed(
                    "the path is not a URL-encoded base64 OCSPRequest (RFC 5019 §5)", peer(request))));
        }
        return answer(der, request);
    }

    private CompletableFuture<HttpResponse<?>> answer(byte[] der, HttpRequest<?> request) {
        Optional<OcspAnswer> cached = responder.cached(der);
        if (cached.isPresent()) {
            return CompletableFuture.completedFuture(encode(cached.get()));
        }
        return signers.<HttpResponse<?>>submit(() -> encode(responder.respond(der, peer(request))))
                .orElseGet(() -> CompletableFuture.completedFuture(encode(responder.busy(signers.queued(), peer(request)))));
    }

    private static HttpResponse<byte[]> encode(OcspAnswer answer) {
        MutableHttpResponse<byte[]> response = HttpResponse.ok(answer.der()).contentType(OCSP_RESPONSE);
        if (answer.reason() != null) {
            response.header(REASON_HEADER, answer.reason());
        }
        return response;
    }

    private static String peer(HttpRequest<?> request) {
        InetSocketAddress address = request.getRemoteAddress();
        return address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    }
}
