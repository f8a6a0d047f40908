package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EstCoapStatusTest {
    @Test
    void every_failure_code_has_a_client_or_unavailable_status() {
        for (FailureCode code : FailureCode.values()) {
            assertThat(EstCoapStatus.of(code)).as(code.name()).matches("4\\.\\d\\d|5\\.03");
            assertThat(EstCoapStatus.isSuccess(EstCoapStatus.of(code))).isFalse();
        }
    }

    @Test
    void the_table_says_what_rfc_9148_devices_expect() {
        assertThat(EstCoapStatus.of(FailureCode.MALFORMED_REQUEST)).isEqualTo("4.00");
        assertThat(EstCoapStatus.of(FailureCode.NOT_AUTHENTICATED)).isEqualTo("4.01");
        assertThat(EstCoapStatus.of(FailureCode.DEVICE_REVOKED)).isEqualTo("4.03");
        assertThat(EstCoapStatus.of(FailureCode.PAYLOAD_TOO_LARGE)).isEqualTo("4.13");
        assertThat(EstCoapStatus.of(FailureCode.UNSUPPORTED_MEDIA_TYPE)).isEqualTo("4.15");
        assertThat(EstCoapStatus.of(FailureCode.UNAVAILABLE)).isEqualTo("5.03");
        assertThat(EstCoapStatus.isSuccess(EstCoapStatus.CHANGED)).isTrue();
    }
}
