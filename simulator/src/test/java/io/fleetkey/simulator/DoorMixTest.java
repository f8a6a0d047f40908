package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.fleetkey.simulator.report.Door;
import org.junit.jupiter.api.Test;

/** Doors are shared by weight and interleaved, so any stretch of the fleet uses every door. */
class DoorMixTest {
    @Test
    void devices_are_shared_by_weight_and_interleaved() {
        DoorMix mix = DoorMix.parse("https=2, coap=1,mqtt=1");
        List<Door> doors = mix.assign(400);

        Map<Door, Long> counts = doors.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(counts).containsEntry(Door.HTTPS, 200L).containsEntry(Door.COAP, 100L).containsEntry(Door.MQTT, 100L);
        assertThat(doors.subList(0, 4)).containsExactlyInAnyOrder(Door.HTTPS, Door.HTTPS, Door.COAP, Door.MQTT);
        assertThat(mix.describe()).isEqualTo("HTTPS 2, CoAP 1, MQTT 1");
        assertThat(DoorMix.parse("coaps").assign(3)).containsOnly(Door.COAP);
    }

    @Test
    void a_wrong_mix_says_what_is_wrong() {
        assertThatThrownBy(() -> DoorMix.parse("https,http")).hasMessageContaining("unknown door 'http'");
        assertThatThrownBy(() -> DoorMix.parse("https=0")).hasMessageContaining("must be 1 to 1000");
        assertThatThrownBy(() -> DoorMix.parse("mqtt=x")).hasMessageContaining("is not a whole number: 'x'");
        assertThatThrownBy(() -> DoorMix.parse("https,https=2")).hasMessageContaining("HTTPS is named twice");
    }
}
