package io.fleetkey.server.transport.coap;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * {@code /.well-known/est}: the four operations, also reachable under an arbitrary CA label
 * ({@code /.well-known/est/<label>/sen}, RFC 9148 §4.1). The label is accepted and ignored, as on
 * HTTPS: the device's group decides the profile.
 */
final class EstRootResource extends CoapResource {
    EstRootResource() {
        super("est");
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
    }
}
