package io.fleetkey.server.transport.http;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.Base64Body;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.FreshnessNonces;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.json.JsonMapper;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * EST over HTTPS (RFC 7030). A thin door: decode the base64 body, report what TLS and HTTP
 * authentication proved, call {@link EnrollmentService}, encode the answer.
 */
@Controller(EstOperation.WELL_KNOWN_PREFIX)
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "EST", description = "Enrollment over Secure Transport, RFC 7030")
public class EstController {
    /** RFC 7030 §4: binary bodies travel base64-encoded, and say so. */
    private static final String CONTENT_TRANSFER_ENCODING = "Content-Transfer-Encoding";
    /** The draft's nonce request is {@code {"len": n}}, perhaps with a type: a few dozen bytes. */
    static final int MAX_NONCE_REQUEST_BYTES = 4096;

    private final EnrollmentService enrollment;
    private final FreshnessNonces nonces;
    private final JsonMapper json;
    private final int maxRequestBytes;

    public EstController(EnrollmentService enrollment, FreshnessNonces nonces, JsonMapper json,
                         FleetkeyConfiguration config) {
        this.enrollment = enrollment;
        this.nonces = nonces;
        this.json = json;
        this.maxRequestBytes = config.getEnrollment().getMaxRequestBytes();
    }

    @Operation(summary = "CA certificates (RFC 7030 §4.1)")
    @Get(uris = {"/cacerts", "/{label}/cacerts"}, produces = EstMediaTypes.PKCS7_CERTS_ONLY)
    public HttpResponse<String> cacerts(@Nullable String label) {
        return base64(HttpResponse.ok(), Certificates.toPkcs7CertsOnly(enrollment.caCertificates()),
                EstMediaTypes.PKCS7_CERTS_ONLY);
    }

    @Operation(summary = "CSR attributes (RFC 7030 §4.5)")
    @Get(uris = {"/csrattrs", "/{label}/csrattrs"}, produces = EstMediaTypes.CSR_ATTRS)
    public HttpResponse<String> csrattrs(@Nullable String label) {
        return base64(HttpResponse.ok(), enrollment.csrAttributes(), EstMediaTypes.CSR_ATTRS);
    }

    @Operation(summary = "A freshness nonce for the device statement in a CSR (draft-ietf-lamps-attestation-freshness)")
    @Get(uris = {"/nonce", "/{label}/nonce"}, produces = EstMediaTypes.ATTESTATION_FRESHNESS_JSON)
    public HttpResponse<?> nonce(@Nullable String label) throws java.io.IOException {
        return nonceOf(null);
    }

    /**
     * The draft's POST form: a JSON {@code {"len": 8..55}} asks for a nonce of that many bytes.
     * {@code type}/{@code reqInfo} name attestation types, of which this server defines none. The
     * draft answers a bad request with 400 and no body; the reason travels in Fleetkey-Reason.
     */
    @Operation(summary = "A freshness nonce of a requested length (draft-ietf-lamps-attestation-freshness, POST)")
    @Post(uris = {"/nonce", "/{label}/nonce"}, consumes = MediaType.ALL, produces = EstMediaTypes.ATTESTATION_FRESHNESS_JSON)
    public HttpResponse<?> nonceRequest(@Nullable String label, @Nullable @Body byte[] body) throws java.io.IOException {
        Integer length = null;
        if (body != null && body.length > MAX_NONCE_REQUEST_BYTES) { // a chunked body declares no length up front
            return refused(FailureCode.PAYLOAD_TOO_LARGE, "a nonce request is a small JSON object; at most "
                    + MAX_NONCE_REQUEST_BYTES + " bytes are accepted");
        }
        if (body != null && body.length > 0) {
            io.micronaut.json.tree.JsonNode request;
            try {
                request = json.readValue(body, io.micronaut.json.tree.JsonNode.class);
            } catch (java.io.IOException | RuntimeException e) {
                return badNonceRequest("the body is not JSON");
            }
            if (request == null || !request.isObject()) {
                return badNonceRequest("the body must be a JSON object such as {\"len\": 32}");
            }
            if (request.get("type") != null || request.get("reqInfo") != null) {
                return badNonceRequest("this server defines no attestation nonce types; leave out type and reqInfo");
            }
            io.micronaut.json.tree.JsonNode len = request.get("len");
            if (len != null) {
                if (!len.isNumber() || len.getNumberValue().doubleValue() != len.getIntValue()) {
                    return badNonceRequest("len must be a whole number of bytes");
                }
                length = len.getIntValue();
                Optional<String> problem = FreshnessNonces.lengthProblem(length);
                if (problem.isPresent()) {
                    return badNonceRequest(problem.get());
                }
            }
        }
        return nonceOf(length);
    }

    private static HttpResponse<?> badNonceRequest(String reason) {
        return HttpResponse.status(HttpStatus.BAD_REQUEST).header("Fleetkey-Error", FailureCode.MALFORMED_REQUEST.name())
                .header("Fleetkey-Reason", reason);
    }

    private HttpResponse<?> nonceOf(Integer length) throws java.io.IOException {
        FreshnessNonces.Issued issued;
        try {
            issued = nonces.issue(length);
        } catch (FreshnessNonces.TooManyNonces e) {
            return refused(FailureCode.UNAVAILABLE, e.getMessage())
                    .header(HttpHeaders.RETRY_AFTER, Long.toString(FreshnessNonces.RETRY_AFTER.toSeconds()));
        }
        // Written here: the JSON codec does not claim the draft's +json media type.
        return HttpResponse.ok(json.writeValueAsBytes(issued.body())).contentType(EstMediaTypes.ATTESTATION_FRESHNESS_JSON)
                .header(HttpHeaders.CACHE_CONTROL, "no-store");
    }

    @Operation(summary = "Enroll (RFC 7030 §4.2.1)")
    @Post(uris = {"/simpleenroll", "/{label}/simpleenroll"}, consumes = MediaType.ALL,
            produces = EstMediaTypes.PKCS7_CERTS_ONLY)
    public HttpResponse<String> simpleenroll(HttpRequest<?> request, @Nullable String label, @Nullable @Body byte[] body) {
        return handle(request, body, false);
    }

    @Operation(summary = "Re-enroll (RFC 7030 §4.2.2)")
    @Post(uris = {"/simplereenroll", "/{label}/simplereenroll"}, consumes = MediaType.ALL,
            produces = EstMediaTypes.PKCS7_CERTS_ONLY)
    public HttpResponse<String> simplereenroll(HttpRequest<?> request, @Nullable String label, @Nullable @Body byte[] body) {
        return handle(request, body, true);
    }

    /** Content-Type and declared length were checked by {@link EstRequestFilter} before the body was read. */
    private HttpResponse<String> handle(HttpRequest<?> request, byte[] body, boolean reenroll) {
        if (body == null || body.length == 0) {
            return refused(FailureCode.MALFORMED_REQUEST, "the body is empty; send the base64-encoded DER CSR");
        }
        if (body.length > maxRequestBytes) { // a chunked body declares no length up front
            return refused(FailureCode.PAYLOAD_TOO_LARGE, "the body has " + body.length
                    + " bytes; at most " + maxRequestBytes + " are accepted");
        }
        byte[] csr;
        try {
            csr = Base64Body.decode(new String(body, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            return refused(FailureCode.MALFORMED_REQUEST, e.getMessage());
        }
        Optional<ChannelProof> proof = ChannelProofs.from(request);
        if (proof.isEmpty()) {
            return refused(FailureCode.NOT_AUTHENTICATED, "the Authorization header is not valid HTTP Basic "
                    + "(base64 of device-id:enrollment-token)");
        }
        EnrollmentResult result = reenroll ? enrollment.reenroll(Door.HTTPS, csr, proof.get())
                : enrollment.enroll(Door.HTTPS, csr, proof.get());
        if (result instanceof EnrollmentResult.Issued issued) {
            return base64(HttpResponse.ok(), Certificates.toPkcs7CertsOnly(List.of(issued.certificate())),
                    EstMediaTypes.PKCS7_CERTS_ONLY);
        }
        if (result instanceof EnrollmentResult.Pending pending) {
            // RFC 7030 §4.2.3: 202 with Retry-After while the request waits for manual approval.
            return HttpResponse.<String>accepted()
                    .header(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, pending.retryAfter().toSeconds())))
                    .contentType(MediaType.TEXT_PLAIN_TYPE)
                    .body(pending.reason() + "\n");
        }
        EnrollmentResult.Refused refused = (EnrollmentResult.Refused) result;
        if (refused.code() == FailureCode.NOT_AUTHENTICATED && proof.get() instanceof ChannelProof.None) {
            return challenge(refused.reason());
        }
        return refused(refused.code(), refused.reason());
    }

    /**
     * A request that offered no credentials at all gets a bare challenge (RFC 7235 §3.1): 401,
     * WWW-Authenticate, and the reason in a header, with an empty body. Clients that send
     * credentials only when challenged (Bouncy Castle's EST client among them) close the
     * challenge without reading a body, so a body there would break their second round.
     */
    private static HttpResponse<String> challenge(String reason) {
        return HttpResponse.<String>status(HttpStatus.UNAUTHORIZED)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Basic realm=\"fleetkey-est\"")
                .header("Fleetkey-Error", FailureCode.NOT_AUTHENTICATED.name())
                .header("Fleetkey-Reason", reason);
    }

    static MutableHttpResponse<String> refused(FailureCode code, String reason) {
        MutableHttpResponse<String> response = HttpResponse.<String>status(EstStatusTable.statusOf(code))
                .contentType(MediaType.TEXT_PLAIN_TYPE)
                .header("Fleetkey-Error", code.name())
                .body(reason + "\n");
        if (EstStatusTable.statusOf(code).getCode() == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Basic realm=\"fleetkey-est\"");
        }
        return response;
    }

    private static HttpResponse<String> base64(MutableHttpResponse<String> response, byte[] der, String mediaType) {
        return response.contentType(MediaType.of(mediaType))
                .header(CONTENT_TRANSFER_ENCODING, "base64")
                .body(Base64Body.encode(der));
    }

    /** Reads what the HTTP request proved: HTTP Basic (device id + token), else the TLS client certificate. */
    static final class ChannelProofs {
        private ChannelProofs() {
        }

        /** Empty when an Authorization header is present but is not valid Basic. */
        static Optional<ChannelProof> from(HttpRequest<?> request) {
            Optional<String> authorization = request.getHeaders().getAuthorization();
            if (authorization.isPresent()) {
                return basic(authorization.get());
            }
            List<X509Certificate> chain = TlsPeer.clientChain(request);
            if (!chain.isEmpty()) {
                return Optional.of(new ChannelProof.ClientCertificate(chain));
            }
            return Optional.of(ChannelProof.none());
        }

        private static Optional<ChannelProof> basic(String header) {
            if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
                return Optional.empty();
            }
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            int colon = decoded.indexOf(':');
            if (colon <= 0) {
                return Optional.empty();
            }
            return Optional.of(new ChannelProof.Token(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
    }
}
