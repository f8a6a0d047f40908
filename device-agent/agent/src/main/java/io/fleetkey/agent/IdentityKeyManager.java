package io.fleetkey.agent;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
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
    private static final String ALIAS_PREFIX = "device-";
    /** Identities handed out lately, by alias: a handshake asks for alias, chain and key apart. */
    private static final int REMEMBERED = 4;

    private final Supplier<DeviceIdentity> identity;
    private final Map<String, DeviceIdentity> handedOut = new ConcurrentHashMap<>();

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

    /**
     * The alias names one identity (by its serial), so the chain and the key a handshake asks
     * for next belong together even when a renewal lands in between.
     */
    private String choose(String[] keyTypes) {
        DeviceIdentity current = identity.get();
        if (current == null) {
            return null;
        }
        String algorithm = current.privateKey().getAlgorithm();
        if (keyTypes != null && !Arrays.asList(keyTypes).contains(algorithm)) {
            return null;
        }
        String alias = ALIAS_PREFIX + current.serialHex();
        if (handedOut.size() >= REMEMBERED && !handedOut.containsKey(alias)) {
            handedOut.clear();
        }
        handedOut.put(alias, current);
        return alias;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        DeviceIdentity chosen = alias == null ? null : handedOut.get(alias);
        return chosen == null ? null : chosen.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        DeviceIdentity chosen = alias == null ? null : handedOut.get(alias);
        return chosen == null ? null : chosen.privateKey();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String alias = choose(keyType == null ? null : new String[]{keyType});
        return alias == null ? null : new String[]{alias};
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
