package io.fleetkey.server.transport.mqtt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstCoapStatus;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.protocol.MqttTopics;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.FreshnessNonces;
import io.micronaut.json.JsonMapper;

/**
 * One EST request that arrived over MQTT, answered as the EST-coaps door answers it
 * (docs/mqtt-protocol.md): check the payload, state what the channel proved, call
 * {@link EnrollmentService}, encode. No MQTT client code here, so it is easy to test.
 */
final class MqttEstHandler {
    /** Codes of the door itself, next to the core's {@link FailureCode}s (docs/mqtt-protocol.md). */
    static final String UNKNOWN_OPERATION = "UNKNOWN_OPERATION";
    static final String NOT_ACCEPTABLE = "NOT_ACCEPTABLE";
    static final String INTERNAL_ERROR = "INTERNAL_ERROR";
    static final String JSON = "application/json";
    /** Reasons stay short: small devices log them. */
    private static final int MAX_REASON_CHARS = 300;

    private final EnrollmentService enrollment;
    private final FreshnessNonces nonces;
    private final JsonMapper json;
    private final int maxRequestBytes;
    private volatile CaBodies caBodies;

    MqttEstHandler(EnrollmentService enrollment, FreshnessNonces nonces, JsonMapper json, int maxRequestBytes) {
        this.enrollment = enrollment;
        this.nonces = nonces;
        this.json = json;
        this.maxRequestBytes = maxRequestBytes;
    }

    /**
     * What came with a request besides its topic.
     *
     * @param contentType MQTT 5 Content Type, or null (MQTT 3.1.1 has none)
     * @param accept      the {@code accept} user property (a CoAP Content-Format number), or null
     */
    record Incoming(byte[] payload, String contentType, String accept, ChannelProof proof) {
    }

    MqttReply handle(MqttTopics.Request request, Incoming in) {
        if (MqttTopics.NONCE.equals(request.operation())) {
            return nonce(in);
        }
        Optional<EstOperation> operation = request.estOperation();
        if (operation.isEmpty()) {
            return failure(EstCoapStatus.NOT_FOUND, UNKNOWN_OPERATION, "there is no operation '" + request.operation()
                    + "'; use crts, sen, sren, att or nonce");
        }
        return switch (operation.get()) {
            case CA_CERTIFICATES -> caCertificates(in);
            case CSR_ATTRIBUTES -> csrAttributes(in);
            case SIMPLE_ENROLL, SIMPLE_REENROLL -> enroll(operation.get(), in);
        };
    }

    private MqttReply caCertificates(Incoming in) {
        Optional<MqttReply> wrong = emptyRequest(in, "crts");
        if (wrong.isPresent()) {
            return wrong.get();
        }
        CaBodies bodies = caBodies();
        return switch (accepted(in, EstMediaTypes.COAP_PKCS7_CERTS_ONLY, EstMediaTypes.COAP_PKIX_CERT)) {
            case EstMediaTypes.COAP_PKIX_CERT -> new MqttReply(EstCoapStatus.CONTENT, bodies.issuing(), EstMediaTypes.PKIX_CERT);
            case EstMediaTypes.COAP_PKCS7_CERTS_ONLY ->
                    new MqttReply(EstCoapStatus.CONTENT, bodies.pkcs7(), EstMediaTypes.PKCS7_CERTS_ONLY);
            default -> notAcceptable(in, "281 or 287");
        };
    }

    /** The crts answers, encoded once per CA chain: every device asks, and the chain rarely changes. */
    private CaBodies caBodies() {
        List<X509Certificate> chain = enrollment.caCertificates();
        CaBodies current = caBodies;
        if (current == null || !current.chain().equals(chain)) {
            current = new CaBodies(chain, Certificates.toPkcs7CertsOnly(chain), Certificates.toDer(chain.get(0)));
            caBodies = current;
        }
        return current;
    }

    private record CaBodies(List<X509Certificate> chain, byte[] pkcs7, byte[] issuing) {
    }

    /** A freshness nonce for a device statement: the JSON of the HTTPS nonce operation. */
    private MqttReply nonce(Incoming in) {
        Optional<MqttReply> wrong = emptyRequest(in, "nonce");
        if (wrong.isPresent()) {
            return wrong.get();
        }
        FreshnessNonces.Issued issued;
        try {
            issued = nonces.issue(null);
        } catch (FreshnessNonces.TooManyNonces e) {
            Map<String, Object> body = body(EstCoapStatus.SERVICE_UNAVAILABLE, FailureCode.UNAVAILABLE.name(),
                    e.getMessage());
            body.put("retryAfter", FreshnessNonces.RETRY_AFTER.toSeconds());
            return new MqttReply(EstCoapStatus.SERVICE_UNAVAILABLE, encode(body), JSON);
        }
        return new MqttReply(EstCoapStatus.CONTENT, encode(issued.body()), EstMediaTypes.ATTESTATION_FRESHNESS_JSON);
    }

    private MqttReply csrAttributes(Incoming in) {
        Optional<MqttReply> wrong = emptyRequest(in, "att");
        if (wrong.isPresent()) {
            return wrong.get();
        }
        if (accepted(in, EstMediaTypes.COAP_CSR_ATTRS) < 0) {
            return notAcceptable(in, "285");
        }
        return new MqttReply(EstCoapStatus.CONTENT, enrollment.csrAttributes(), EstMediaTypes.CSR_ATTRS);
    }

    private MqttReply enroll(EstOperation operation, Incoming in) {
        if (in.contentType() != null && !in.contentType().isEmpty()
                && !in.contentType().equalsIgnoreCase(EstMediaTypes.PKCS10)) {
            return refusal(FailureCode.UNSUPPORTED_MEDIA_TYPE, "Content Type '" + in.contentType()
                    + "' is not accepted; send the DER CSR as " + EstMediaTypes.PKCS10 + " (or without a Content Type)");
        }
        int format = accepted(in, EstMediaTypes.COAP_PKCS7_CERTS_ONLY, EstMediaTypes.COAP_PKIX_CERT);
        if (format < 0) {
            return notAcceptable(in, "281 or 287");
        }
        if (in.payload().length == 0) {
            return refusal(FailureCode.MALFORMED_REQUEST, "the payload is empty; send the DER CSR");
        }
        if (in.payload().length > maxRequestBytes) {
            return refusal(FailureCode.PAYLOAD_TOO_LARGE, "the CSR has " + in.payload().length + " bytes; at most "
                    + maxRequestBytes + " are accepted");
        }
        EnrollmentResult result = operation == EstOperation.SIMPLE_REENROLL
                ? enrollment.reenroll(Door.MQTT, in.payload(), in.proof())
                : enrollment.enroll(Door.MQTT, in.payload(), in.proof());
        if (result instanceof EnrollmentResult.Issued issued) {
            return format == EstMediaTypes.COAP_PKIX_CERT
                    ? new MqttReply(EstCoapStatus.CHANGED, Certificates.toDer(issued.certificate()), EstMediaTypes.PKIX_CERT)
                    : new MqttReply(EstCoapStatus.CHANGED, Certificates.toPkcs7CertsOnly(List.of(issued.certificate())),
                    EstMediaTypes.PKCS7_CERTS_ONLY);
        }
        if (result instanceof EnrollmentResult.Pending pending) {
            Map<String, Object> body = body(EstCoapStatus.SERVICE_UNAVAILABLE, "PENDING_APPROVAL", pending.reason());
            body.put("retryAfter", Math.max(1, pending.retryAfter().toSeconds()));
            return new MqttReply(EstCoapStatus.SERVICE_UNAVAILABLE, encode(body), JSON);
        }
        EnrollmentResult.Refused refused = (EnrollmentResult.Refused) result;
        return refusal(refused.code(), refused.reason());
    }

    /** A reply for a request that failed inside the server; the cause is in the server log only. */
    MqttReply internalError() {
        return failure(EstCoapStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR,
                "the server failed to handle the request; retry later");
    }

    MqttReply refusal(FailureCode code, String reason) {
        return failure(EstCoapStatus.of(code), code.name(), reason);
    }

    private Optional<MqttReply> emptyRequest(Incoming in, String op) {
        if (in.payload().length == 0) {
            return Optional.empty();
        }
        return Optional.of(refusal(FailureCode.MALFORMED_REQUEST, op + " takes an empty payload"));
    }

    /** The Content-Format to answer with: the first one without {@code accept}, the asked one if served, else -1. */
    private static int accepted(Incoming in, int... served) {
        if (in.accept() == null || in.accept().isBlank()) {
            return served[0];
        }
        for (int format : served) {
            if (in.accept().trim().equals(Integer.toString(format))) {
                return format;
            }
        }
        return -1;
    }

    private MqttReply notAcceptable(Incoming in, String served) {
        return failure(EstCoapStatus.NOT_ACCEPTABLE, NOT_ACCEPTABLE, "accept '" + DeviceAuthenticator.printable(
                in.accept(), 20) + "' is not served here; ask for " + served);
    }

    private MqttReply failure(String status, String code, String reason) {
        return new MqttReply(status, encode(body(status, code, reason)), JSON);
    }

    private static Map<String, Object> body(String status, String code, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("status", status);
        body.put("reason", reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS - 3) + "...");
        return body;
    }

    private byte[] encode(Map<String, Object> body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write an MQTT JSON reply", e);
        }
    }
}
