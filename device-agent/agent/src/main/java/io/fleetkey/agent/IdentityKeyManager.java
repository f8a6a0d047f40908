package io.fleetkey.agent;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A client-side key manager that presents one identity, asked for at each handshake. The
 * supplier is read per handshake, so a caller that swaps the identity after a renewal gets the
 * new certificate on the next connection without rebuilding its {@code SSLContext}.
 * The identity is offered whatever CA names the server lists: Fleetkey's HTTPS door lists none
 * and checks the chain itself. Thread-safe if the supplier is.
 */
public final class IdentityKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "device";

    private final Supplier<DeviceIdentity> identity;

    /** @param identity gives the identity to present; it may return null to present none */
    public IdentityKeyManager(Supplier<DeviceIdentity> identity) {
        this.identity = Objects.requireNonNull(identity, "identity");
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return choose(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return choose(keyTypes);
    }

    private String choose(String[] keyTypes) {
        DeviceIdentity current = identity.get();
        if (current == null) {
            return null;
        }
        String algorithm = current.privateKey().getAlgorithm();
        return keyTypes == null || Arrays.asList(keyTypes).contains(algorithm) ? ALIAS : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        DeviceIdentity current = identity.get();
        return ALIAS.equals(alias) && current != null ? current.chain().toArray(X509Certificate[]::new) : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        DeviceIdentity current = identity.get();
        return ALIAS.equals(alias) && current != null ? current.privateKey() : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return identity.get() == null ? null : new String[]{ALIAS};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
