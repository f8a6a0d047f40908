package io.fleetkey.server.transport.coap;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * {@code /.well-known/est}: the four operations, also reachable under an arbitrary CA label
 * ({@code /.well-known/est/<label>/sen}, RFC 9148 §4.1). The label is accepted and ignored, as on
 * HTTPS: the device's group decides the profile.
 */
final class EstRootResource extends CoapResource {
    EstRootResource() {
        super("est", false); // discovery lists the operations, not the container
    }

    @Override
    public Resource getChild(String name) {
        Resource operation = super.getChild(name);
        if (operation != null || name == null || name.isEmpty() || name.length() > 64) {
            return operation;
        }
        return new LabelResource(name);
    }

    /** A label: not listed in discovery, routes to the same operation resources. */
    private final class LabelResource extends CoapResource {
        LabelResource(String label) {
            super(label, false);
        }

        @Override
        public Resource getChild(String name) {
            return EstRootResource.super.getChild(name);
        }

        /** Reached only when the path ends at the label: most likely a mistyped operation. */
        @Override
        public void handleRequest(Exchange exchange) {
            new CoapExchange(exchange).respond(ResponseCode.NOT_FOUND, "no EST operation '" + getName()
                    + "' here; use crts, sen, sren or att (RFC 9148 §4.1)", MediaTypeRegistry.TEXT_PLAIN);
        }
    }
}
