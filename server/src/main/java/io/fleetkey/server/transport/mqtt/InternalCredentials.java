package io.fleetkey.server.transport.mqtt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The server's own MQTT login on the embedded broker: a fixed username, a password drawn at
 * every start and kept only in memory (never logged, never written), and client ids under a
 * prefix no device may use. It gets every permission.
 */
public final class InternalCredentials {
    public static final String USERNAME = "fleetkey-server";
    /** Client ids of the server's own clients; the authenticator refuses devices that claim one. */
    public static final String CLIENT_ID_PREFIX = "fleetkey-server-";

    private final byte[] password;

    private InternalCredentials(byte[] password) {
        this.password = password;
    }

    static InternalCredentials random() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return new InternalCredentials(Base64.getUrlEncoder().withoutPadding().encodeToString(raw)
                .getBytes(StandardCharsets.US_ASCII));
    }

    /** The password, for the server's own MQTT client; a copy. */
    public byte[] password() {
        return password.clone();
    }

    boolean matches(Optional<ByteBuffer> presented) {
        if (presented.isEmpty()) {
            return false;
        }
        ByteBuffer buffer = presented.get().asReadOnlyBuffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return MessageDigest.isEqual(password, bytes);
    }

    @Override
    public String toString() {
        return "InternalCredentials[" + USERNAME + ", password hidden]";
    }
}
