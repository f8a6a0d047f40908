package io.fleetkey.server.transport.coap;

import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.protocol.EstMediaTypes;
import io.fleetkey.protocol.EstOperation;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.enrollment.ChannelProof;
import io.fleetkey.server.enrollment.Door;
import io.fleetkey.server.enrollment.EnrollmentResult;
import io.fleetkey.server.enrollment.EnrollmentService;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.auth.X509CertPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RFC 9148 resource under {@code /.well-known/est}. A thin door: check the CoAP options,
 * state what the DTLS handshake proved, call {@link EnrollmentService}, encode the answer.
 * Handlers run on the server's blocking executor because the core waits on the database; the
 * response still rides on the ACK (no separate response), which constrained clients handle best.
 */
final class EstCoapResource extends CoapResource {
    private static final Logger LOG = LoggerFactory.getLogger(EstCoapResource.class);
    /** Diagnostic payloads stay short: they travel in one datagram to small devices. */
    private static final int MAX_DIAGNOSTIC_BYTES = 200;

    private final EstOperation operation;
    private final EnrollmentService enrollment;
    private final Executor executor;
    private final int maxRequestBytes;

    EstCoapResource(EstOperation operation, EnrollmentService enrollment, Executor executor, int maxRequestBytes) {
        super(operation.shortName());
        this.operation = operation;
        this.enrollment = enrollment;
        this.executor = executor;
        this.maxRequestBytes = maxRequestBytes;
        // RFC 9148 §4.1: rt names the operation, ct lists the formats a client may ask for with Accept.
        getAttributes().addResourceType("ace.est." + operation.shortName());
        if (operation == EstOperation.CSR_ATTRIBUTES) {
            getAttributes().addContentType(EstMediaTypes.COAP_CSR_ATTRS);
        } else {
            getAttributes().addContentTypes(EstMediaTypes.COAP_PKCS7_CERTS_ONLY, EstMediaTypes.COAP_PKIX_CERT);
        }
    }

    @Override
    public Executor getExecutor() {
        return executor;
    }

    @Override
    public void handleGET(CoapExchange exchange) {
        guarded(exchange, () -> {
            switch (operation) {
                case CA_CERTIFICATES -> caCertificates(exchange);
                case CSR_ATTRIBUTES -> csrAttributes(exchange);
                default -> exchange.respond(ResponseCode.METHOD_NOT_ALLOWED, "use POST with a PKCS#10 CSR (Content-Format 286)",
                        MediaTypeRegistry.TEXT_PLAIN);
            }
        });
    }

    @Override
    public void handlePOST(CoapExchange exchange) {
        guarded(exchange, () -> {
            if (operation != EstOperation.SIMPLE_ENROLL && operation != EstOperation.SIMPLE_REENROLL) {
                exchange.respond(ResponseCode.METHOD_NOT_ALLOWED, "use GET", MediaTypeRegistry.TEXT_PLAIN);
                return;
            }
            enroll(exchange);
        });
    }

    private void caCertificates(CoapExchange exchange) {
        int format = responseFormat(exchange, EstMediaTypes.COAP_PKCS7_CERTS_ONLY, EstMediaTypes.COAP_PKIX_CERT);
        if (format < 0) {
            return;
        }
        List<X509Certificate> chain = enrollment.caCertificates();
        byte[] body = format == EstMediaTypes.COAP_PKIX_CERT
                ? Certificates.toDer(chain.get(0)) // RFC 9148 §4.1: one certificate, the issuing CA
                : Certificates.toPkcs7CertsOnly(chain);
        exchange.respond(ResponseCode.CONTENT, body, format);
    }

    private void csrAttributes(CoapExchange exchange) {
        int format = responseFormat(exchange, EstMediaTypes.COAP_CSR_ATTRS);
        if (format >= 0) {
            exchange.respond(ResponseCode.CONTENT, enrollment.csrAttributes(), format);
        }
    }

    private void enroll(CoapExchange exchange) {
        int contentFormat = exchange.getRequestOptions().getContentFormat();
        if (contentFormat != EstMediaTypes.COAP_PKCS10) {
            refuse(exchange, FailureCode.UNSUPPORTED_MEDIA_TYPE, contentFormat == MediaTypeRegistry.UNDEFINED
                    ? "no Content-Format; send the DER CSR as Content-Format 286 (application/pkcs10)"
                    : "Content-Format " + contentFormat + " is not accepted; send the DER CSR as 286 (application/pkcs10)");
            return;
        }
        int format = responseFormat(exchange, EstMediaTypes.COAP_PKCS7_CERTS_ONLY, EstMediaTypes.COAP_PKIX_CERT);
        if (format < 0) {
            return;
        }
        byte[] csr = exchange.getRequestPayload();
        if (csr == null || csr.length == 0) {
            refuse(exchange, FailureCode.MALFORMED_REQUEST, "the payload is empty; send the DER CSR");
            return;
        }
        if (csr.length > maxRequestBytes) { // one large datagram bypasses the block-wise limit
            refuse(exchange, FailureCode.PAYLOAD_TOO_LARGE, "the CSR has " + csr.length + " bytes; at most "
                    + maxRequestBytes + " are accepted");
            return;
        }
        ChannelProof proof = proofOf(exchange);
        EnrollmentResult result = operation == EstOperation.SIMPLE_REENROLL
                ? enrollment.reenroll(Door.COAPS, csr, proof) : enrollment.enroll(Door.COAPS, csr, proof);
        if (result instanceof EnrollmentResult.Issued issued) {
            byte[] body = format == EstMediaTypes.COAP_PKIX_CERT
                    ? Certificates.toDer(issued.certificate())
                    : Certificates.toPkcs7CertsOnly(List.of(issued.certificate()));
            exchange.respond(ResponseCode.CHANGED, body, format); // RFC 9148 §4.4: 2.04 for sen and sren
        } else if (result instanceof EnrollmentResult.Pending pending) {
            // RFC 9148 §4.7: a long wait is 5.03 with Max-Age; the client sends the same CSR again after it.
            Response response = new Response(ResponseCode.SERVICE_UNAVAILABLE);
            response.getOptions().setMaxAge(Math.max(1, pending.retryAfter().toSeconds()))
                    .setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
            response.setPayload(diagnostic(pending.reason()));
            exchange.respond(response);
        } else {
            EnrollmentResult.Refused refused = (EnrollmentResult.Refused) result;
            refuse(exchange, refused.code(), refused.reason());
        }
    }

    /**
     * The Content-Format to answer with: the first allowed one without Accept, the asked one if
     * allowed, else 4.06 and -1 (RFC 7252 §5.10.4).
     */
    private static int responseFormat(CoapExchange exchange, int... allowed) {
        int accept = exchange.getRequestOptions().getAccept();
        if (accept == MediaTypeRegistry.UNDEFINED) {
            return allowed[0];
        }
        for (int format : allowed) {
            if (format == accept) {
                return format;
            }
        }
        StringBuilder formats = new StringBuilder();
        for (int format : allowed) {
            formats.append(formats.isEmpty() ? "" : " or ").append(format);
        }
        exchange.respond(ResponseCode.NOT_ACCEPTABLE, "Accept " + accept + " is not served here; ask for " + formats,
                MediaTypeRegistry.TEXT_PLAIN);
        return -1;
    }

    /** What the DTLS handshake proved: the client's certificate chain (its key proven in CertificateVerify), or nothing. */
    private static ChannelProof proofOf(CoapExchange exchange) {
        if (exchange.advanced().getRequest().getSourceContext().getPeerIdentity() instanceof X509CertPath path) {
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : path.getPath().getCertificates()) {
                chain.add((X509Certificate) c);
            }
            if (!chain.isEmpty()) {
                return new ChannelProof.ClientCertificate(chain);
            }
        }
        return new ChannelProof.None();
    }

    private static void refuse(CoapExchange exchange, FailureCode code, String reason) {
        exchange.respond(CoapStatusTable.codeOf(code), diagnostic(code.name() + ": " + reason), MediaTypeRegistry.TEXT_PLAIN);
    }

    private static byte[] diagnostic(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_DIAGNOSTIC_BYTES) {
            return bytes;
        }
        return (new String(bytes, 0, MAX_DIAGNOSTIC_BYTES - 3, StandardCharsets.UTF_8) + "...")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** An exception escaping a Californium handler turns into a bare RST; answer 5.00 instead. */
    private void guarded(CoapExchange exchange, Runnable handler) {
        try {
            handler.run();
        } catch (RuntimeException e) {
            LOG.error("EST-coaps {} failed", operation.shortName(), e);
            exchange.respond(ResponseCode.INTERNAL_SERVER_ERROR, "internal error; the server log has the details",
                    MediaTypeRegistry.TEXT_PLAIN);
        }
    }
}
