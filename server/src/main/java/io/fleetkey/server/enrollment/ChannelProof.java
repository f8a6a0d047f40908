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
