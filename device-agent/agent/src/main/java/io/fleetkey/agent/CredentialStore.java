package io.fleetkey.agent;

import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * Where the device's key and certificate live. {@link IdentityDirectory} keeps them in files;
 * a store on a PKCS#11 token (a secure element, a TPM) implements the same steps with a key
 * that never leaves the token. Every step is atomic: a power cut leaves the old identity, or
 * the new one, never a mix.
 */
public interface CredentialStore {
    /** The current identity; empty before the first enrollment. */
    Optional<DeviceIdentity> load() throws IOException;

    /**
     * The key for the next request: the one an unanswered request used (so a retry sends the
     * same key), else a new key of this kind, stored before it is returned.
     */
    KeyPair pendingKeyPair(DeviceKeyType type) throws IOException;

    /** Makes the pending key and its certificate the current identity. */
    DeviceIdentity commit(X509Certificate certificate, List<X509Certificate> caCertificates) throws IOException;

    /** Drops the current identity (one that ended while the device was off), to enroll afresh. */
    void forget() throws IOException;

    /** Keeps other agents off the store until closed. */
    Lock lock() throws IOException;

    /** Where the store is, for messages. */
    String location();

    /** Holds {@link #lock()} until closed. */
    interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }
}
