package io.fleetkey.server.transport.http;

import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CrlPublisher;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * The issuing CA's current CRL at the URL issued certificates name as their CRL distribution
 * point (RFC 5280 §4.2.1.13), as DER with the RFC 2585 media type. Public like every CRL: no token.
 */
@Controller
@ExecuteOn(TaskExecutors.BLOCKING)
@Tag(name = "CRL", description = "Certificate revocation list, RFC 5280")
public class CrlController {
    /** RFC 2585 §4.2. */
    static final String PKIX_CRL = "application/pkix-crl";

    private final CrlPublisher publisher;

    public CrlController(CrlPublisher publisher) {
        this.publisher = publisher;
    }

    @Operation(summary = "The issuing CA's current CRL (DER)")
    @Get(uri = CertificateAuthority.CRL_PATH, produces = PKIX_CRL)
    public HttpResponse<byte[]> crl() {
        return HttpResponse.ok(publisher.current().der()).contentType(PKIX_CRL);
    }
}
