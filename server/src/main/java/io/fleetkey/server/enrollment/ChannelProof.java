package io.fleetkey.server.enrollment;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What the transport channel itself proved about the client, as reported by a door.
 * The core decides what that proof is worth.
 */
public sealed interface ChannelProof {
    /** The channel proved nothing. */
    record None() implements ChannelProof {
    }

    /**
     * The channel proved no credential but names the device: an MQTT broker confines each
     * client to its own device's topics, so the request topic says which device sent it. A token
     * in the CSR is checked against that device; {@code encrypted} false means the connection may
     * not have been TLS, and then no token is accepted from it.
     */
    record Named(String deviceId, boolean encrypted) implements ChannelProof {
    }

    /** A device id and a one-time enrollment token (HTTP Basic, or in-band on MQTT). */
    record Token(String deviceId, String secret) implements ChannelProof {
        @Override
        public String toString() {
            return "Token[deviceId=" + deviceId + ", secret=<hidden>]";
        }
    }

    /**
     * A client certificate chain (leaf first) whose private key the peer proved it holds,
     * e.g. in the TLS or DTLS handshake. The chain is not yet checked against any trust anchor.
     */
    record ClientCertificate(List<X509Certificate> chain) implements ChannelProof {
        public ClientCertificate {
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("a client certificate chain has at least the leaf");
            }
            chain = List.copyOf(chain);
        }

        public X509Certificate leaf() {
            return chain.get(0);
        }
    }

    static ChannelProof none() {
        return new None();
    }
}
