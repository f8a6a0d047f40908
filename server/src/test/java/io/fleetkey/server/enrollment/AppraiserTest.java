package io.fleetkey.server.enrollment;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;
import io.fleetkey.protocol.Evidence.Measurement;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.AttestationResult;
import org.junit.jupiter.api.Test;

class AppraiserTest {
    private static final String GOOD_FW = "aa".repeat(32);
    private static final String OLD_FW = "bb".repeat(32);
    private static final AttestationPolicy POLICY = new AttestationPolicy(AttestationPolicy.Mode.REQUIRED,
            AttestationPolicy.OnWarning.REFUSE, true, "restricted", List.of("gw-4"), "2.4.0", false, List.of(
            new AttestationPolicy.AllowedDigest("firmware", GOOD_FW, Instant.EPOCH, null),
            new AttestationPolicy.AllowedDigest("firmware", OLD_FW, Instant.EPOCH, null)));

    private static Evidence evidence(String model, String version, DebugStatus debug, List<Measurement> m) {
        return new Evidence(model, "fw", version, debug, m);
    }

    @Test
    void matching_evidence_is_affirming() {
        Appraisal a = Appraiser.appraise(evidence("gw-4", "2.4.1", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", OLD_FW), new Measurement("config", "cc".repeat(32)))), POLICY, "g");
        assertThat(a.result()).isEqualTo(AttestationResult.AFFIRMING);
        assertThat(a.reasons()).isEmpty();
    }

    @Test
    void a_known_bad_claim_is_contraindicated_and_named() {
        assertThat(Appraiser.appraise(evidence("gw-4", "2.4.1", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", "dd".repeat(32)))), POLICY, "g"))
                .satisfies(a -> assertThat(a.result()).isEqualTo(AttestationResult.CONTRAINDICATED))
                .satisfies(a -> assertThat(a.reasons()).singleElement().asString()
                        .contains("component 'firmware'", "dd".repeat(32), "does not allow"));
        assertThat(Appraiser.appraise(evidence("gw-4", "2.4.1", DebugStatus.ENABLED,
                List.of(new Measurement("firmware", GOOD_FW))), POLICY, "g").reasons())
                .singleElement().asString().contains("debug is enabled");
        assertThat(Appraiser.appraise(evidence("gw-9", "2.4.1", DebugStatus.DISABLED,
                List.of(new Measurement("firmware", GOOD_FW))), POLICY, "g").result())
                .isEqualTo(AttestationResult.CONTRAINDICATED);
    }

    @Test
    void missing_or_outdated_claims_are_warnings() {
        Appraisal missing = Appraiser.appraise(Evidence.NONE, POLICY, "g");
        assertThat(missing.result()).isEqualTo(AttestationResult.WARNING);
        assertThat(missing.reasons()).hasSize(4).anySatisfy(r -> assertThat(r).contains("hwmodel"))
                .anySatisfy(r -> assertThat(r).contains("dbgstat")).anySatisfy(r -> assertThat(r).contains("swversion"))
                .anySatisfy(r -> assertThat(r).contains("'firmware' was not measured"));
        assertThat(Appraiser.appraise(evidence("gw-4", "2.3.9", DebugStatus.DISABLED_PERMANENTLY,
                List.of(new Measurement("firmware", GOOD_FW))), POLICY, "g").reasons())
                .singleElement().asString().contains("2.3.9 is below", "2.4.0");
    }

    @Test
    void contraindications_outrank_warnings_and_come_first() {
        Appraisal a = Appraiser.appraise(evidence("gw-4", "1.0", DebugStatus.ENABLED, List.of()), POLICY, "g");
        assertThat(a.result()).isEqualTo(AttestationResult.CONTRAINDICATED);
        assertThat(a.reasons().get(0)).contains("debug is enabled");
    }

    @Test
    void versions_compare_by_number_not_by_text() {
        assertThat(Appraiser.compareVersions("2.4.10", "2.4.9")).isPositive();
        assertThat(Appraiser.compareVersions("2.4", "2.4.0")).isZero();
        assertThat(Appraiser.compareVersions("2.4.0-rc1", "2.4.0")).isNegative();
        assertThat(Appraiser.compareVersions("2.4.1-rc1", "2.4.0")).isPositive();
        assertThat(Appraiser.compareVersions("2.4.0+build.7", "2.4.0")).isZero();
        assertThat(Appraiser.compareVersions("10.0", "9.9.9")).isPositive();
        assertThat(Appraiser.compareVersions("v2", "2")).isEqualTo(Integer.MIN_VALUE);
    }

    @Test
    void a_group_without_reference_values_affirms_whatever_is_claimed() {
        AttestationPolicy open = new AttestationPolicy(AttestationPolicy.Mode.REQUIRED,
                AttestationPolicy.OnWarning.REFUSE, true, "restricted", List.of(), null, true, List.of());
        assertThat(Appraiser.appraise(Evidence.NONE, open, "g").result()).isEqualTo(AttestationResult.AFFIRMING);
    }
}
