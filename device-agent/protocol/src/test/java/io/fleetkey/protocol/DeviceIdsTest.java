package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeviceIdsTest {
    @Test
    void accepts_the_documented_alphabet_up_to_64_characters() {
        assertThat(DeviceIds.isValid("pos-terminal_07.berlin")).isTrue();
        assertThat(DeviceIds.isValid("a".repeat(64))).isTrue();
    }

    @Test
    void refuses_empty_long_and_foreign_characters() {
        assertThat(DeviceIds.isValid("")).isFalse();
        assertThat(DeviceIds.isValid(null)).isFalse();
        assertThat(DeviceIds.isValid("a".repeat(65))).isFalse();
        assertThat(DeviceIds.isValid("dev/1")).isFalse();
        assertThat(DeviceIds.isValid("dev 1")).isFalse();
        assertThat(DeviceIds.isValid("dév")).isFalse();
    }
}
