package io.fleetkey.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MqttTopicsTest {
    @Test
    void request_and_response_topics_follow_the_documented_layout() {
        assertThat(MqttTopics.request("meter-0001", EstOperation.SIMPLE_ENROLL, "r1"))
                .isEqualTo("fleetkey/v1/est/meter-0001/sen/req/r1");
        assertThat(MqttTopics.response("meter-0001", EstOperation.SIMPLE_ENROLL, "r1", "2.04"))
                .isEqualTo("fleetkey/v1/est/meter-0001/sen/res/r1/2.04");
        assertThat(MqttTopics.deviceResponses("meter-0001")).isEqualTo("fleetkey/v1/est/meter-0001/+/res/#");
        assertThat(MqttTopics.serverRequests()).isEqualTo("$share/fleetkey/fleetkey/v1/est/+/+/req/+");
        assertThat(MqttTopics.events("meter-0001")).isEqualTo("fleetkey/v1/dev/meter-0001/events");
    }

    @Test
    void the_broker_rules_of_a_device_cover_exactly_its_own_topics() {
        assertThat(MqttTopics.deviceRequests("meter-0001")).isEqualTo("fleetkey/v1/est/meter-0001/+/req/+");
        assertThat(MqttTopics.deviceEvents("meter-0001")).isEqualTo("fleetkey/v1/dev/meter-0001/#");
        assertThatThrownBy(() -> MqttTopics.deviceRequests("+")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MqttTopics.deviceEvents("a/b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void a_request_topic_parses_back_into_its_parts() {
        MqttTopics.Request r = MqttTopics.parseRequest("fleetkey/v1/est/meter-0001/sren/req/0f1e-2d").orElseThrow();
        assertThat(r.deviceId()).isEqualTo("meter-0001");
        assertThat(r.estOperation()).contains(EstOperation.SIMPLE_REENROLL);
        assertThat(r.requestId()).isEqualTo("0f1e-2d");
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/meter-0001/skg/req/1").orElseThrow().estOperation()).isEmpty();
    }

    @Test
    void wrong_shapes_are_not_requests() {
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/meter-0001/sen/req")).isEmpty();
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/meter-0001/sen/res/1/2.04")).isEmpty();
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/a/b/sen/req/1")).isEmpty();
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/meter 1/sen/req/1")).isEmpty();
        assertThat(MqttTopics.parseRequest("fleetkey/v1/est/meter-0001/sen/req/" + "x".repeat(37))).isEmpty();
    }

    @Test
    void ids_that_would_break_a_topic_are_refused() {
        assertThatThrownBy(() -> MqttTopics.request("a/b", EstOperation.SIMPLE_ENROLL, "1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MqttTopics.request("meter", EstOperation.SIMPLE_ENROLL, "+"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MqttTopics.events("#")).isInstanceOf(IllegalArgumentException.class);
    }
}
