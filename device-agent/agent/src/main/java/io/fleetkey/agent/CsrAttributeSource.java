package io.fleetkey.agent;

import java.io.IOException;
import java.security.PublicKey;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.bouncycastle.asn1.pkcs.Attribute;

/**
 * Adds attributes to the CSR that {@link DeviceEnroller} builds for one request, next to the
 * enrollment token: attestation evidence (draft-ietf-lamps-csr-attestation), or a device
 * statement signed with the current key, which renewal through an external MQTT broker needs
 * because that broker's server cannot see the device's TLS certificate (docs/mqtt-protocol.md).
 * <p>
 * Called once per request, on the enrolling thread, after the key pair is settled and before the
 * CSR is signed. A source may ask the transport for a {@link EstTransport#nonce() nonce}.
 */
@FunctionalInterface
public interface CsrAttributeSource {

    /** What the CSR is for. */
    record Request(String deviceId, PublicKey newKey, Optional<DeviceIdentity> current, EstTransport transport) {
        public Request {
            Objects.requireNonNull(deviceId, "deviceId");
            Objects.requireNonNull(newKey, "newKey");
            Objects.requireNonNull(current, "current");
            Objects.requireNonNull(transport, "transport");
        }

        /** True for a renewal: the device holds a certificate and asks for the next one. */
        public boolean renewal() {
            return current.isPresent();
        }
    }

    /**
     * @return the attributes to add, in order; empty for none
     * @throws EstException when the server refuses what the source asked of it (a nonce)
     * @throws IOException  when the server cannot be reached for it
     */
    List<Attribute> attributes(Request request) throws EstException, IOException, InterruptedException;
}
