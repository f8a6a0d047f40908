package io.fleetkey.server.transport.mqtt;

/**
 * The answer to one MQTT request, before it is addressed: the EST-coaps status that goes into
 * the response topic, the payload (DER on success, a small JSON document otherwise) and its
 * MQTT 5 content type.
 */
record MqttReply(String status, byte[] payload, String contentType) {
}
