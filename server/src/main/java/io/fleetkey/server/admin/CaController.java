package io.fleetkey.server.admin;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;

/** The CA chain as PEM, for relying parties (payment backends, brokers) to trust. */
@Controller("/api/v1/ca")
@Tag(name = "CA")
@SecurityRequirement(name = "bearer")
public class CaController {
    private final EnrollmentService enrollment;

    public CaController(EnrollmentService enrollment) {
        this.enrollment = enrollment;
    }

    @Operation(summary = "CA chain, issuing CA first, root last (PEM)")
    @Get(value = "/chain", produces = EstMediaTypes.PEM_CHAIN)
    public String chain() {
        return Certificates.toPem(enrollment.caCertificates());
    }
}
