package io.fleetkey.server.transport.coap;

import java.io.IOException;
import java.util.concurrent.Executor;

import io.fleetkey.server.enrollment.FreshnessNonces;
import io.micronaut.json.JsonMapper;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;

/**
 * {@code GET /.well-known/est/nonce}: a freshness nonce for a device statement, as on HTTPS
 * (draft-ietf-lamps-attestation-freshness). The draft's CBOR form has no CoAP Content-Format
 * number yet, so the answer is the same JSON as on HTTPS, Content-Format 50 (application/json).
 */
final class NonceCoapResource extends CoapResource {
    static final String NAME = "nonce";

    private final FreshnessNonces nonces;
    private final JsonMapper json;
    private final Executor executor;

    NonceCoapResource(FreshnessNonces nonces, JsonMapper json, Executor executor) {
        super(NAME);
        this.nonces = nonces;
        this.json = json;
        this.executor = executor;
        getAttributes().addResourceType("fleetkey.nonce"); // RFC 9148 registers no ace.est type for it
        getAttributes().addContentType(MediaTypeRegistry.APPLICATION_JSON);
    }

    @Override
    public Executor getExecutor() {
        return executor; // the nonce is written to the registry
    }

    @Override
    public void handleGET(CoapExchange exchange) {
        int accept = exchange.getRequestOptions().getAccept();
        if (accept != MediaTypeRegistry.UNDEFINED && accept != MediaTypeRegistry.APPLICATION_JSON) {
            exchange.respond(ResponseCode.NOT_ACCEPTABLE, "Accept " + accept + " is not served here; ask for 50",
                    MediaTypeRegistry.TEXT_PLAIN);
            return;
        }
        try {
            FreshnessNonces.Issued issued = nonces.issue(null);
            exchange.respond(ResponseCode.CONTENT, json.writeValueAsBytes(issued.body()), MediaTypeRegistry.APPLICATION_JSON);
        } catch (FreshnessNonces.TooManyNonces e) {
            // RFC 9148 §5: 5.03 with Max-Age says when to ask again.
            Response response = new Response(ResponseCode.SERVICE_UNAVAILABLE);
            response.getOptions().setMaxAge(FreshnessNonces.RETRY_AFTER.toSeconds())
                    .setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
            response.setPayload("UNAVAILABLE: " + e.getMessage());
            exchange.respond(response);
        } catch (IOException | RuntimeException e) {
            exchange.respond(ResponseCode.SERVICE_UNAVAILABLE, "no nonce can be issued now; retry later",
                    MediaTypeRegistry.TEXT_PLAIN);
        }
    }
}
