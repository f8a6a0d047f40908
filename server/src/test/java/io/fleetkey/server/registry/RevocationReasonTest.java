package io.fleetkey.server.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The RFC 5280 §5.3.1 names and codes a fleet manager may revoke with, and the ones refused. */
class RevocationReasonTest {
    @Test
    void codes_are_those_of_rfc_5280() {
        Map<String, Integer> rfc = Map.of("unspecified", 0, "keyCompromise", 1, "affiliationChanged", 3,
                "superseded", 4, "cessationOfOperation", 5, "privilegeWithdrawn", 9);
        assertThat(RevocationReason.values()).hasSize(rfc.size());
        for (RevocationReason r : RevocationReason.values()) {
            assertThat(r.code()).as(r.rfcName()).isEqualTo(rfc.get(r.rfcName()));
            assertThat(RevocationReason.ofCode(r.code())).isEqualTo(r);
        }
    }

    @Test
    void names_are_read_in_any_letter_case_and_in_enum_style() {
        for (String name : new String[]{"keyCompromise", "keycompromise", "KEYCOMPROMISE", "KEY_COMPROMISE",
            " keyCompromise ", "key-compromise"}) {
            assertThat(RevocationReason.parse(name)).as(name).isEqualTo(RevocationReason.KEY_COMPROMISE);
        }
        assertThat(RevocationReason.parse("cessationOfOperation")).isEqualTo(RevocationReason.CESSATION_OF_OPERATION);
    }

    @Test
    void a_hold_is_refused_because_revocation_is_permanent() {
        assertThatThrownBy(() -> RevocationReason.parse("certificateHold"))
                .isInstanceOfSatisfying(FleetException.class,
                        e -> assertThat(e.kind()).isEqualTo(FleetException.Kind.INVALID))
                .hasMessageContaining("'certificateHold' is not accepted")
                .hasMessageContaining("permanent")
                .hasMessageContaining("accepted reasons: [unspecified, keyCompromise, affiliationChanged, superseded, "
                        + "cessationOfOperation, privilegeWithdrawn]");
    }

    @Test
    void authority_reasons_and_unknown_names_are_refused_with_the_accepted_ones() {
        assertThatThrownBy(() -> RevocationReason.parse("CA_COMPROMISE")).hasMessageContaining("not a device's");
        assertThatThrownBy(() -> RevocationReason.parse("removeFromCRL")).hasMessageContaining("lifts a certificate hold");
        assertThatThrownBy(() -> RevocationReason.parse("lost")).hasMessageContaining("'lost' is not an RFC 5280 reason")
                .hasMessageContaining("keyCompromise");
        assertThatThrownBy(() -> RevocationReason.parse("x".repeat(1000))).hasMessageContaining("x".repeat(40) + "...")
                .hasMessageNotContaining("x".repeat(41));
        assertThatThrownBy(() -> RevocationReason.parse(null)).hasMessageContaining("a revocation reason is required");
    }
}
