package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class Base64BodyTest {
    @Test
    void round_trip_with_line_breaks() {
        byte[] data = new byte[200];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        String text = Base64Body.encode(data);
        assertThat(text.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(64));
        assertThat(Base64Body.decode(text)).isEqualTo(data);
        assertThat(Base64Body.decode(text.replace("\n", "\r\n"))).isEqualTo(data);
    }

    @Test
    void characters_outside_the_alphabet_are_an_error_not_skipped() {
        assertThatThrownBy(() -> Base64Body.decode("MIIB$$AAAA")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not valid base64");
    }

    @Test
    void empty_body_is_an_error() {
        assertThatThrownBy(() -> Base64Body.decode(" \r\n")).hasMessageContaining("empty");
    }
}
