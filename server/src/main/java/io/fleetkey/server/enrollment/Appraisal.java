package io.fleetkey.server.enrollment;

import java.util.List;

import io.fleetkey.server.registry.AttestationResult;

/** The verifier's conclusion on one piece of evidence, with the reasons it is not affirming. */
record Appraisal(AttestationResult result, List<String> reasons) {
    Appraisal {
        reasons = List.copyOf(reasons);
    }
}
