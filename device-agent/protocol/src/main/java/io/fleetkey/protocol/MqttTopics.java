package io.fleetkey.protocol;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The topic layout of EST over MQTT (docs/mqtt-protocol.md), one place for both sides.
 *
 * <pre>
 * request   fleetkey/v1/est/{deviceId}/{op}/req/{requestId}          device publishes, QoS 1
 * response  fleetkey/v1/est/{deviceId}/{op}/res/{requestId}/{status}  server publishes, QoS 1
 * events    fleetkey/v1/dev/{deviceId}/events                         server publishes (revocation retained)
 * </pre>
 * {@code op} is the RFC 9148 short name ({@link EstOperation#shortName()}), {@code status} the
 * CoAP-style code of the EST-coaps door ({@code 2.04}, {@code 4.03}, {@code 5.03}, …), so every
 * door answers the same request with the same code. Device ids ({@link DeviceIds}) and request
 * ids contain no {@code /}, {@code +}, {@code #} or {@code $}, so they are always safe in a topic.
 */
public final class MqttTopics {
    public static final String PREFIX = "fleetkey/v1";
    /** Server nodes share requests through this shared-subscription group (MQTT 5 §4.8.2). */
    public static final String SERVER_GROUP = "fleetkey";
    /** The operation that hands out a freshness nonce for a device statement (not an RFC 9148 short name). */
    public static final String NONCE = "nonce";

    private static final Pattern OPERATION = Pattern.compile("[a-z]{1,16}");
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9_-]{1,36}");
    private static final Pattern REQUEST = Pattern.compile(
            "fleetkey/v1/est/([A-Za-z0-9._-]{1,64})/([a-z]{1,16})/req/([A-Za-z0-9_-]{1,36})");

    private MqttTopics() {
    }

    /**
     * A device's MQTT client id is its device id, or its device id, {@value #CLIENT_ID_SEPARATOR}
     * and a suffix when it holds several connections (an agent and an application, a subscriber
     * and a publisher): no device can take over another's session.
     */
    public static final char CLIENT_ID_SEPARATOR = ':';

    /** The device a client id belongs to, if it is a device's client id. */
    public static Optional<String> deviceOfClientId(String clientId) {
        if (clientId == null || clientId.length() > 128) {
            return Optional.empty();
        }
        int cut = clientId.indexOf(CLIENT_ID_SEPARATOR);
        String deviceId = cut < 0 ? clientId : clientId.substring(0, cut);
        String suffix = cut < 0 ? "" : clientId.substring(cut + 1);
        if (!DeviceIds.isValid(deviceId) || (cut >= 0 && !REQUEST_ID.matcher(suffix).matches())) {
            return Optional.empty();
        }
        return Optional.of(deviceId);
    }

    /** A request id: 1 to 36 characters from A-Z, a-z, 0-9, '_' and '-' (a UUID fits). */
    public static boolean isValidRequestId(String requestId) {
        return requestId != null && REQUEST_ID.matcher(requestId).matches();
    }

    public static String request(String deviceId, EstOperation operation, String requestId) {
        return request(deviceId, operation.shortName(), requestId);
    }

    /** The request topic for an operation by name, e.g. {@link #NONCE}, which is no {@link EstOperation}. */
    public static String request(String deviceId, String operation, String requestId) {
        if (!OPERATION.matcher(operation).matches()) {
            throw new IllegalArgumentException("an operation name has 1 to 16 letters a-z");
        }
        return est(deviceId) + "/" + operation + "/req/" + checkedRequestId(requestId);
    }

    public static String response(String deviceId, EstOperation operation, String requestId, String status) {
        return response(deviceId, operation.shortName(), requestId, status);
    }

    /** The response topic for an operation name as a device sent it (an unknown one is answered 4.04 there). */
    public static String response(String deviceId, String operation, String requestId, String status) {
        if (!OPERATION.matcher(operation).matches()) {
            throw new IllegalArgumentException("an operation name has 1 to 16 letters a-z");
        }
        return est(deviceId) + "/" + operation + "/res/" + checkedRequestId(requestId) + "/" + status;
    }

    /**
     * Whether a topic a device named as its MQTT 5 Response Topic lies inside its own response
     * topics ({@link #deviceResponses}); the server answers only there, so it can never be steered
     * into another device's topics or into the request topics it listens to itself.
     */
    public static boolean isDeviceResponseTopic(String deviceId, String topic) {
        if (topic == null || topic.length() > 256 || topic.contains("+") || topic.contains("#")
                || !DeviceIds.isValid(deviceId)) {
            return false;
        }
        String prefix = est(deviceId) + "/";
        if (!topic.startsWith(prefix)) {
            return false;
        }
        String[] levels = topic.substring(prefix.length()).split("/", -1);
        return levels.length >= 2 && !levels[0].isEmpty() && levels[1].equals("res");
    }

    /** What a device subscribes to, before it publishes its first request: all its answers. */
    public static String deviceResponses(String deviceId) {
        return est(deviceId) + "/+/res/#";
    }

    /** What a device may publish to (the broker's rule): its own requests, any operation and request id. */
    public static String deviceRequests(String deviceId) {
        return est(deviceId) + "/+/req/+";
    }

    /** What a device subscribes to for server notices: everything under its own events prefix. */
    public static String deviceEvents(String deviceId) {
        return PREFIX + "/dev/" + checkedDeviceId(deviceId) + "/#";
    }

    /** What every server node subscribes to: all requests, shared among the nodes. */
    public static String serverRequests() {
        return "$share/" + SERVER_GROUP + "/" + PREFIX + "/est/+/+/req/+";
    }

    public static String events(String deviceId) {
        return PREFIX + "/dev/" + checkedDeviceId(deviceId) + "/events";
    }

    /** The parts of a request topic, or empty if the topic is not one. */
    public static Optional<Request> parseRequest(String topic) {
        Matcher m = REQUEST.matcher(topic);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new Request(m.group(1), m.group(2), m.group(3)));
    }

    /** A parsed request topic; {@code operation} is the short name as sent, not yet checked. */
    public record Request(String deviceId, String operation, String requestId) {
        /** The operation, if it is one the protocol knows. */
        public Optional<EstOperation> estOperation() {
            for (EstOperation op : EstOperation.values()) {
                if (op.shortName().equals(operation)) {
                    return Optional.of(op);
                }
            }
            return Optional.empty();
        }
    }

    private static String est(String deviceId) {
        return PREFIX + "/est/" + checkedDeviceId(deviceId);
    }

    private static String checkedDeviceId(String deviceId) {
        if (!DeviceIds.isValid(deviceId)) {
            throw new IllegalArgumentException("not a device id: " + DeviceIds.rule());
        }
        return deviceId;
    }

    private static String checkedRequestId(String requestId) {
        if (!isValidRequestId(requestId)) {
            throw new IllegalArgumentException("a request id has 1 to 36 characters from A-Z, a-z, 0-9, '_' and '-'");
        }
        return requestId;
    }
}
