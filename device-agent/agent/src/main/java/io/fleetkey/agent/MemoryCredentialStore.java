package io.fleetkey.agent;

import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link CredentialStore} that keeps the key and certificate in memory only: for devices whose
 * identity need not outlive the process, such as the thousands a simulator runs in one JVM.
 * Nothing is written anywhere; a restart loses the identity. Thread-safe.
 */
public final class MemoryCredentialStore implements CredentialStore {
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile DeviceIdentity current;
    private KeyPair pending;

    /** @param name what {@link #location()} says, e.g. the device id */
    public MemoryCredentialStore(String name) {
        this.name = name;
    }

    @Override
    public Optional<DeviceIdentity> load() {
        return Optional.ofNullable(current);
    }

    @Override
    public synchronized KeyPair pendingKeyPair(DeviceKeyType type) {
        if (pending == null) {
            pending = KeyFiles.generateKeyPair(type);
        }
        return pending;
    }

    @Override
    public synchronized DeviceIdentity commit(X509Certificate certificate, List<X509Certificate> caCertificates)
            throws IOException {
        if (pending == null) {
            throw new IOException("there is no pending key in " + location() + " to go with the new certificate");
        }
        if (!KeyFiles.certifies(certificate, pending.getPublic())) {
            throw new IOException("the new certificate is not for the pending key in " + location());
        }
        current = new DeviceIdentity(pending.getPrivate(), IdentityDirectory.chainOf(certificate, caCertificates));
        pending = null;
        return current;
    }

    @Override
    public void forget() {
        current = null;
    }

    /** Keeps other threads of this process off the store; there is no other process to keep off. */
    @Override
    public Lock lock() throws IOException {
        if (!lock.tryLock()) {
            throw new IOException("another enrollment is working on " + location() + "; try again when it is done");
        }
        return lock::unlock;
    }

    @Override
    public String location() {
        return "memory (" + name + ")";
    }
}
