package io.fleetkey.server.transport.coap;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.fleetkey.protocol.EstOperation;
import io.fleetkey.server.authority.ServerIdentity;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.FreshnessNonces;
import io.fleetkey.server.events.DeviceNotice;
import io.fleetkey.server.health.DoorReadiness;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.event.annotation.EventListener;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.auth.X509CertPath;
import org.eclipse.californium.elements.config.CertificateAuthenticationMode;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.util.Filter;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.Connection;
import org.eclipse.californium.scandium.dtls.DTLSSession;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * EST over CoAP/DTLS (RFC 9148): a Californium CoAP server on a Scandium DTLS 1.2 connector,
 * started and stopped with the application. The server authenticates with its Fleetkey TLS
 * certificate; clients may present a certificate (checked by the core during the handshake)
 * or none, in which case only a token in the CSR can enroll them.
 */
@Context
@Requires(property = "fleetkey.coaps.enabled", notEquals = "false")
public class CoapsDoor {
    private static final Logger LOG = LoggerFactory.getLogger(CoapsDoor.class);
    static final String NAME = "est-coaps";

    static {
        CoapConfig.register();
        DtlsConfig.register();
    }

    private final CoapServer server;
    private final DTLSConnector connector;
    private final EnrollmentService enrollment;
    private final ExecutorService blocking;
    /** Revoked devices whose DTLS sessions are still to be ended. */
    private final Set<String> toCutOff = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean cutOffQueued = new AtomicBoolean();
    private final DtlsTrafficLog trafficLog = new DtlsTrafficLog();

    public CoapsDoor(FleetkeyConfiguration config, ServerIdentity identity, EnrollmentService enrollment,
                     FreshnessNonces nonces, JsonMapper json, DoorReadiness readiness,
                     @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        readiness.expect(NAME);
        this.enrollment = enrollment;
        this.blocking = blocking;
        FleetkeyConfiguration.Coaps settings = config.getCoaps();
        int maxRequestBytes = config.getEnrollment().getMaxRequestBytes();
        Configuration coap = coapConfiguration(config);

        this.connector = new DTLSConnector(dtlsConfig(coap, settings, identity, enrollment));
        this.server = new CoapServer(coap);
        server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(coap).setConnector(connector).build());
        CoapResource est = new EstRootResource();
        for (EstOperation operation : EstOperation.values()) {
            est.add(new EstCoapResource(operation, enrollment, blocking, maxRequestBytes));
        }
        est.add(new NonceCoapResource(nonces, json, blocking));
        Resource wellKnown = server.getRoot().getChild(".well-known");
        wellKnown.add(est);
        try {
            server.start();
        } catch (IllegalStateException e) {
            server.destroy();
            throw new ConfigurationException(startFailure(settings, e), e);
        }
        if (connector.getAddress() == null) {
            server.destroy();
            throw new ConfigurationException(startFailure(settings, null));
        }
        readiness.ready(NAME);
        LOG.info("EST over CoAP/DTLS (RFC 9148) at coaps://{}:{}{}", settings.getBindAddress(),
                connector.getAddress().getPort(), EstOperation.WELL_KNOWN_PREFIX);
    }

    /**
     * Ends the open DTLS sessions of a revoked device: any session whose client certificate names
     * the device, its Fleetkey certificates as well as its factory identity. Each gets a
     * close_notify, so the device learns at once, and is then forgotten, so it cannot be resumed
     * (an abbreviated handshake shows no certificate); a new full handshake is refused by the
     * handshake's certificate check, which consults the registry. Sessions without a client
     * certificate carry no device identity and stay; they cannot enroll for a revoked device.
     */
    @EventListener
    void onNotice(DeviceNotice revoked) {
        if (revoked.kind() != DeviceNotice.Kind.REVOKED) {
            return;
        }
        toCutOff.add(revoked.deviceId());
        if (cutOffQueued.compareAndSet(false, true)) {
            blocking.execute(this::cutOff);
        }
    }

    /**
     * One walk over the held connections for every revoked device queued so far: a revocation of
     * thousands of devices at once costs a few walks, not one per device.
     */
    private void cutOff() {
        cutOffQueued.set(false); // before draining: a revocation arriving during the walk queues the next one
        Set<String> devices = new HashSet<>();
        for (Iterator<String> queued = toCutOff.iterator(); queued.hasNext(); ) {
            devices.add(queued.next());
            queued.remove();
        }
        if (devices.isEmpty()) {
            return;
        }
        long started = System.nanoTime();
        Filter<Principal> namesRevoked = principal -> principal instanceof X509CertPath path
                && !Collections.disjoint(enrollment.devicesNamedBy(chainOf(path)), devices);
        try {
            // Both walks run on each connection's own serial executor, so a connection's
            // close_notify (queued by the first) is sent before the second removes it.
            connector.startForEach((Filter<Connection>) connection -> {
                DTLSSession session = connection.getSession();
                if (session != null && session.getPeerIdentity() != null
                        && namesRevoked.accept(session.getPeerIdentity()) && connection.getPeerAddress() != null) {
                    connector.close(connection.getPeerAddress());
                }
                return false;
            }).get(CUT_OFF_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            connector.startTerminateConnectionsForPrincipal(namesRevoked, true)
                    .get(CUT_OFF_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("EST over CoAP/DTLS: ended the DTLS sessions of {} revoked device(s), e.g. {}, in {} ms",
                    devices.size(), devices.iterator().next(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("EST over CoAP/DTLS: could not end every DTLS session of {} revoked device(s), e.g. {}: {}; "
                    + "their certificates are refused at the next handshake all the same", devices.size(),
                    devices.iterator().next(), e.toString());
        }
    }

    /** How long one walk over the held connections may take before the cut-off is reported as failed. */
    private static final Duration CUT_OFF_TIMEOUT = Duration.ofSeconds(10);

    private static List<X509Certificate> chainOf(X509CertPath path) {
        return path.getPath().getCertificates().stream().map(X509Certificate.class::cast).toList();
    }

    /**
     * The door's CoAP settings. Public, with {@link #dtlsSettings}, so that a load test's bare
     * Scandium server runs with exactly the door's settings.
     */
    public static Configuration coapConfiguration(FleetkeyConfiguration config) {
        FleetkeyConfiguration.Coaps settings = config.getCoaps();
        // Always an explicit Configuration: Californium's global default writes a properties file into the cwd.
        Configuration coap = Configuration.createStandardWithoutFile();
        coap.set(CoapConfig.MAX_MESSAGE_SIZE, settings.getMaxMessageSize());
        coap.set(CoapConfig.PREFERRED_BLOCK_SIZE, settings.getPreferredBlockSize());
        coap.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, config.getEnrollment().getMaxRequestBytes());
        coap.set(CoapConfig.BLOCKWISE_STATUS_LIFETIME, settings.getBlockwiseLifetime().toMillis(), TimeUnit.MILLISECONDS);
        coap.set(CoapConfig.BLOCKWISE_STRICT_BLOCK1_OPTION, true);
        return coap;
    }

    /** The door's DTLS settings and identity, without the client-certificate verifier and health handler. */
    public static DtlsConnectorConfig.Builder dtlsSettings(Configuration coap, FleetkeyConfiguration.Coaps settings,
                                                           PrivateKey key, List<X509Certificate> chain) {
        return DtlsConnectorConfig.builder(coap)
                .setAddress(new InetSocketAddress(settings.getBindAddress(), settings.getPort()))
                .set(DtlsConfig.DTLS_ROLE, DtlsRole.SERVER_ONLY)
                // RFC 9146: devices behind NATs keep their session when their address changes.
                .set(DtlsConfig.DTLS_CONNECTION_ID_LENGTH, settings.getConnectionIdLength())
                // Stateless cookie exchange first: a spoofed source cannot make the server work or amplify.
                .set(DtlsConfig.DTLS_USE_HELLO_VERIFY_REQUEST, true)
                .set(DtlsConfig.DTLS_MAX_CONNECTIONS, settings.getMaxConnections())
                .set(DtlsConfig.DTLS_STALE_CONNECTION_THRESHOLD, settings.getStaleConnectionThreshold().toSeconds(),
                        TimeUnit.SECONDS)
                .set(DtlsConfig.DTLS_MAX_PENDING_HANDSHAKE_RESULT_JOBS, settings.getMaxPendingHandshakes())
                // Certificates are optional at this layer: token devices enroll without one.
                .set(DtlsConfig.DTLS_CLIENT_AUTHENTICATION_MODE, CertificateAuthenticationMode.WANTED)
                // RFC 9148 §7 mandates CCM_8; GCM for clients that lack it.
                .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
                        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
                // Device and maker chains may be P-384/SHA-384 or Ed25519, not only P-256.
                .setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA,
                        SignatureAndHashAlgorithm.SHA384_WITH_ECDSA, SignatureAndHashAlgorithm.INTRINSIC_WITH_ED25519,
                        SignatureAndHashAlgorithm.SHA256_WITH_RSA)
                .set(DtlsConfig.DTLS_RETRANSMISSION_TIMEOUT, settings.getRetransmissionTimeout().toMillis(),
                        TimeUnit.MILLISECONDS)
                .setCertificateIdentityProvider(new SingleCertificateProvider(key, serverChain(chain, settings),
                        CertificateType.X_509));
    }

    private DtlsConnectorConfig dtlsConfig(Configuration coap, FleetkeyConfiguration.Coaps settings,
                                           ServerIdentity identity, EnrollmentService enrollment) {
        try {
            return dtlsSettings(coap, settings, identity.key(), identity.chain())
                    .setAdvancedCertificateVerifier(new DtlsClientCertificates(enrollment))
                    .setHealthHandler(trafficLog)
                    .build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ConfigurationException("The EST-coaps (DTLS) settings are not usable: " + e.getMessage()
                    + "; check the FLEETKEY_COAPS_* settings", e);
        }
    }

    /**
     * The certificates the server sends: never the root (RFC 5246 §7.4.2 lets it go, devices pin it,
     * and it would cost a few hundred bytes per handshake); the issuing CA unless turned off.
     */
    private static X509Certificate[] serverChain(List<X509Certificate> chain, FleetkeyConfiguration.Coaps settings) {
        int length = settings.isSendIssuingCa() ? Math.min(2, chain.size()) : 1;
        return chain.subList(0, length).toArray(new X509Certificate[0]);
    }

    private static String startFailure(FleetkeyConfiguration.Coaps settings, Exception e) {
        // Californium reports only that no endpoint started; find out whether the port is the reason.
        String why = "it did not start" + (e == null ? "" : " (" + e.getMessage() + ")");
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(settings.getBindAddress(), settings.getPort()))) {
            probe.getLocalPort();
        } catch (IOException bind) {
            why = "UDP port " + settings.getPort() + " on " + settings.getBindAddress() + " is not available ("
                    + bind.getMessage() + ")";
        }
        return "EST over CoAP/DTLS cannot start: " + why + ". Set FLEETKEY_COAPS_PORT to a free port, "
                + "or FLEETKEY_COAPS_ENABLED=false to run without the CoAP door";
    }

    /** The UDP port the door listens on (the configured one, or the one picked for port 0). */
    public int port() {
        return connector.getAddress().getPort();
    }

    DTLSConnector connector() {
        return connector;
    }

    @PreDestroy
    void stop() {
        server.destroy();
    }
}
