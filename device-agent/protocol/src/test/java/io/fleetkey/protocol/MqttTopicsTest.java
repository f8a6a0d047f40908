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

    @Test
    void a_device_may_name_a_response_topic_only_inside_its_own_answers() {
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-1/sen/res/r1")).isTrue();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-1/sen/res/my/own")).isTrue();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-2/sen/res/r1")).isFalse();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-1/sen/req/r1")).isFalse();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-1/sen/res/+")).isFalse();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/est/m-1//res/x")).isFalse();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", "fleetkey/v1/dev/m-1/events")).isFalse();
        assertThat(MqttTopics.isDeviceResponseTopic("m-1", null)).isFalse();
    }

    @Test
    void an_unknown_operation_still_has_a_response_topic_but_only_a_safe_one() {
        assertThat(MqttTopics.response("m-1", "nope", "r1", "4.04")).isEqualTo("fleetkey/v1/est/m-1/nope/res/r1/4.04");
        assertThatThrownBy(() -> MqttTopics.response("m-1", "a/b", "r1", "4.04"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void client_ids_belong_to_the_device_they_start_with() {
        assertThat(MqttTopics.deviceOfClientId("meter-0001")).contains("meter-0001");
        assertThat(MqttTopics.deviceOfClientId("meter-0001:agent")).contains("meter-0001");
        assertThat(MqttTopics.deviceOfClientId("meter-0001:")).isEmpty();
        assertThat(MqttTopics.deviceOfClientId("meter-0001:a:b")).isEmpty();
        assertThat(MqttTopics.deviceOfClientId("bad id")).isEmpty();
        assertThat(MqttTopics.deviceOfClientId("")).isEmpty();
    }
}
