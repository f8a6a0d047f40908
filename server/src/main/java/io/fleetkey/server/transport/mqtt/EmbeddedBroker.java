package io.fleetkey.server.transport.mqtt;

import java.io.IOException;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.client.parameter.Listener;
import com.hivemq.extension.sdk.api.packets.disconnect.DisconnectReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import io.fleetkey.server.authority.ServerIdentity;
import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.events.DeviceNotice;
import io.fleetkey.server.health.DoorReadiness;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.runtime.event.annotation.EventListener;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.TaskScheduler;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Named;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT broker inside the server (HiveMQ CE embedded, in memory), started and stopped with
 * the application. Two listeners: TLS for devices ({@code FLEETKEY_MQTTS_PORT}, the server's own
 * certificate, client certificates optional or required) and a plain development listener on the
 * loopback interface ({@code FLEETKEY_MQTT_PORT}) for the server's own client and local tools.
 * {@link DeviceAuthenticator} decides every connection. Start-up fails, naming the setting to
 * change, unless both listeners answer a login afterwards: HiveMQ itself only logs a listener it
 * could not open, and falls back to its defaults on a bad configuration.
 */
@Context
@Requires(condition = BrokerChoice.Embedded.class)
public class EmbeddedBroker {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBroker.class);
    static final String NAME = "mqtt-broker";
    /** Listener names in config.xml; the authenticator tells the listeners apart by them. */
    static final String PLAIN_LISTENER = "plain-development";
    static final String TLS_LISTENER = "mqtts";

    private final FleetkeyConfiguration.Mqtt.Embedded settings;
    private final EnrollmentService enrollment;
    private final BrokerFiles files;
    private final InternalCredentials internal = InternalCredentials.random();
    private final EmbeddedHiveMQ hive;
    private volatile Set<Listener> configuredListeners = Set.of();
    private final TaskScheduler scheduler;

    public EmbeddedBroker(FleetkeyConfiguration config, ServerIdentity identity, EnrollmentService enrollment,
                          DoorReadiness readiness, @Named(TaskExecutors.BLOCKING) ExecutorService blocking,
                          @Named(TaskExecutors.SCHEDULED) TaskScheduler scheduler) {
        readiness.expect(NAME);
        if (config.getMqtt().isEnabled()) {
            // The door connects after the broker starts; until it listens, devices are told to come back.
            readiness.expect(MqttDoor.NAME);
        }
        this.scheduler = scheduler;
        this.settings = config.getMqtt().getEmbedded();
        this.enrollment = enrollment;
        checkSettings();
        this.files = new BrokerFiles(config.getDataDir());
        try {
            files.createFolders();
            files.writeKeystore(identity);
            files.writeTruststore(enrollment.clientCertificateIssuers());
            files.writeConfig(BrokerConfigXml.render(settings, files, config.getEnrollment().getMaxRequestBytes()));
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigurationException("The embedded MQTT broker cannot write its files under " + files.root
                    + ": " + e.getMessage() + "; check FLEETKEY_DATA_DIR", e);
        }
        DeviceAuthenticator authenticator = new DeviceAuthenticator(enrollment, internal,
                settings.isAllowPlainDevices(), blocking, () -> readiness.waitingFor(MqttDoor.NAME));
        EmbeddedExtension extension = EmbeddedExtension.builder()
                .withId("fleetkey-device-access").withName("Fleetkey device access").withVersion("1")
                .withAuthor("Fleetkey").withPriority(1000).withStartPriority(1000)
                .withExtensionMain(new Main(authenticator))
                .build();
        this.hive = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(files.conf)
                .withDataFolder(files.data)
                .withExtensionsFolder(files.extensions)
                .withEmbeddedExtension(extension)
                .withoutLoggingBootstrap() // otherwise HiveMQ resets the server's logback set-up
                .build();
        long started = System.nanoTime();
        start();
        try {
            verifyListeners(identity);
        } catch (RuntimeException e) {
            closeQuietly();
            throw e;
        }
        readiness.ready(NAME);
        LOG.info("Embedded MQTT broker ready in {} ms: devices at mqtts://{}:{} (client certificates {}), "
                        + "development listener (plain, {}) at mqtt://{}:{}",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), settings.getTlsBindAddress(),
                settings.getTlsPort(), settings.getClientAuthentication().toLowerCase(),
                settings.isAllowPlainDevices() ? "devices allowed: development only" : "server and local tools only",
                settings.getBindAddress(), settings.getPort());
    }

    private void checkSettings() {
        if (settings.getPort() == settings.getTlsPort()) {
            throw new ConfigurationException("FLEETKEY_MQTT_PORT and FLEETKEY_MQTTS_PORT are both " + settings.getPort()
                    + "; the plain and the TLS listener of the embedded MQTT broker need two ports");
        }
        try {
            if (!InetAddress.getByName(settings.getBindAddress()).isLoopbackAddress()) {
                LOG.warn("The plain MQTT development listener is bound to {}, not to loopback: MQTT without TLS "
                        + "leaves this host (FLEETKEY_MQTT_BIND_ADDRESS)", settings.getBindAddress());
            }
        } catch (IOException e) {
            throw new ConfigurationException("FLEETKEY_MQTT_BIND_ADDRESS '" + settings.getBindAddress()
                    + "' is not an address of this host: " + e.getMessage(), e);
        }
        checkFree(settings.getBindAddress(), settings.getPort(), "FLEETKEY_MQTT_PORT", "FLEETKEY_MQTT_BIND_ADDRESS");
        checkFree(settings.getTlsBindAddress(), settings.getTlsPort(), "FLEETKEY_MQTTS_PORT",
                "FLEETKEY_MQTTS_BIND_ADDRESS");
    }

    private static void checkFree(String address, int port, String portVariable, String addressVariable) {
        try {
            ListenerProbe.checkFree(address, port);
        } catch (IOException e) {
            throw new ConfigurationException("The embedded MQTT broker cannot start: TCP port " + port + " on "
                    + address + " is not available (" + e.getMessage() + "). Set " + portVariable
                    + " to a free port (or " + addressVariable + " to another address), "
                    + "or FLEETKEY_MQTT_EMBEDDED_ENABLED=false to run without the embedded broker", e);
        }
    }

    private void start() {
        // config.xml names the store password as ${...}; HiveMQ reads it while it starts, and only then.
        System.setProperty(BrokerFiles.PASSWORD_PROPERTY, files.storePassword());
        try {
            hive.start().get(settings.getStartTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            closeQuietly();
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ConfigurationException("The embedded MQTT broker did not start: " + cause
                    + " (HiveMQ's log lines above say more). FLEETKEY_MQTT_EMBEDDED_ENABLED=false runs the server "
                    + "without it", cause);
        } catch (TimeoutException e) {
            closeQuietly();
            throw new ConfigurationException("The embedded MQTT broker did not start within "
                    + settings.getStartTimeout().toSeconds() + " s (FLEETKEY_MQTT_START_TIMEOUT)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly();
            throw new ConfigurationException("interrupted while the embedded MQTT broker started", e);
        } finally {
            System.clearProperty(BrokerFiles.PASSWORD_PROPERTY);
        }
    }

    /** The listeners HiveMQ configured must be ours (else it fell back to its defaults), and each must log us in. */
    private void verifyListeners(ServerIdentity identity) {
        Set<String> expected = Set.of(PLAIN_LISTENER + "@" + settings.getPort(), TLS_LISTENER + "@" + settings.getTlsPort());
        Set<String> actual = configuredListeners.stream().map(l -> l.getName() + "@" + l.getPort())
                .collect(Collectors.toSet());
        if (!actual.equals(expected)) {
            throw new ConfigurationException("The embedded MQTT broker did not take its generated configuration "
                    + files.conf.resolve("config.xml") + " (it runs " + actual + " instead of " + expected
                    + "); HiveMQ's log lines above say why");
        }
        probe(settings.getBindAddress(), settings.getPort(), null, identity, "FLEETKEY_MQTT_PORT");
        probe(settings.getTlsBindAddress(), settings.getTlsPort(), probeTls(identity), identity, "FLEETKEY_MQTTS_PORT");
    }

    private void probe(String bindAddress, int port, SSLSocketFactory tls, ServerIdentity identity, String variable) {
        String what = (tls == null ? "plain" : "TLS") + " listener on " + bindAddress + ":" + port;
        try {
            String host = ListenerProbe.reachable(bindAddress);
            if (tls != null && "REQUIRED".equals(settings.getClientAuthentication())) {
                // No client certificate here: a TLS 1.3 handshake still shows whose certificate answers.
                try (SSLSocket socket = (SSLSocket) tls.createSocket(host, port)) {
                    socket.setSoTimeout(10_000);
                    socket.setEnabledProtocols(new String[]{"TLSv1.3"});
                    socket.startHandshake();
                    if (!socket.getSession().getPeerCertificates()[0].equals(identity.chain().get(0))) {
                        throw new IOException("another certificate than the server's answered");
                    }
                }
                return;
            }
            int code = ListenerProbe.login(host, port, tls, internal);
            if (code != 0) {
                throw new IOException("the broker refused the server's own login with CONNACK code " + code);
            }
        } catch (IOException e) {
            throw new ConfigurationException("The embedded MQTT broker did not open its " + what + " (" + e.getMessage()
                    + "; HiveMQ's log lines above say more). Set " + variable + " to a free port, "
                    + "or FLEETKEY_MQTT_EMBEDDED_ENABLED=false to run without the embedded broker", e);
        }
    }

    private static SSLSocketFactory probeTls(ServerIdentity identity) {
        try {
            List<X509Certificate> chain = identity.chain();
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", chain.get(chain.size() - 1));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS to probe the MQTT listener: " + e.getMessage(), e);
        }
    }

    /**
     * Maker CAs come and go with groups: the TLS layer must know them before the authenticator
     * sees a factory certificate. HiveMQ reloads a changed trust store within 10 seconds.
     */
    @Scheduled(fixedDelay = "30s", initialDelay = "30s")
    void refreshTrustStore() {
        try {
            List<X509Certificate> issuers = enrollment.clientCertificateIssuers();
            if (files.writeTruststore(issuers)) {
                LOG.info("The MQTT TLS listener now accepts client certificates under {} CA(s)", issuers.size());
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("Could not update the MQTT trust store {}: {}", files.truststore, e.toString());
        }
    }

    /** The plain listener's port (FLEETKEY_MQTT_PORT). */
    /**
     * Disconnects a revoked device's MQTT session (every device session's client id is its device
     * id, see {@link DeviceAuthenticator}); from then on the authenticator refuses it. The cut comes
     * {@link #NOTICE_GRACE} after the revocation, so the retained "revoked" notice, which the MQTT
     * door publishes right after, reaches the still-connected device first.
     */
    @EventListener
    void onNotice(DeviceNotice revoked) {
        if (revoked.kind() != DeviceNotice.Kind.REVOKED) {
            return;
        }
        scheduler.schedule(NOTICE_GRACE, () -> {
            String reason = "device revoked" + (revoked.reason() == null ? "" : " (" + revoked.reason() + ")");
            Services.clientService().disconnectClient(revoked.deviceId(), true, DisconnectReasonCode.NOT_AUTHORIZED,
                    reason).whenComplete((connected, failure) -> {
                        if (failure != null) {
                            LOG.warn("Embedded MQTT broker: could not disconnect revoked device {}: {}",
                                    revoked.deviceId(), failure.toString());
                        } else if (Boolean.TRUE.equals(connected)) {
                            LOG.info("Embedded MQTT broker: disconnected revoked device {}, {} ms after its revocation",
                                    revoked.deviceId(), Duration.between(revoked.at(), Instant.now()).toMillis());
                        }
                    });
        });
    }

    /** How long a revoked device's session outlives the revocation: time for the notice to go out. */
    static final Duration NOTICE_GRACE = Duration.ofMillis(250);

    public int port() {
        return settings.getPort();
    }

    /** The TLS listener's port (FLEETKEY_MQTTS_PORT). */
    public int tlsPort() {
        return settings.getTlsPort();
    }

    /** Where the server's own client connects: the plain development listener. */
    public String internalUri() {
        try {
            return "tcp://" + ListenerProbe.reachable(settings.getBindAddress()) + ":" + settings.getPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The server's own login on this broker (per start, in memory only). */
    public InternalCredentials internalCredentials() {
        return internal;
    }

    @PreDestroy
    void stop() {
        long t0 = System.nanoTime();
        closeQuietly();
        LOG.info("Embedded MQTT broker stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private void closeQuietly() {
        try {
            // close() stops a running broker first; HiveMQ's threads are not daemons, so this must happen.
            CompletableFuture.runAsync(() -> {
                try {
                    hive.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("The embedded MQTT broker did not stop cleanly: {}", e.toString());
        }
    }

    /** The in-process extension: registers the authenticator and the disconnect log, remembers the listeners. */
    private final class Main implements ExtensionMain {
        private final DeviceAuthenticator authenticator;

        Main(DeviceAuthenticator authenticator) {
            this.authenticator = authenticator;
        }

        @Override
        public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
            configuredListeners = Set.copyOf(input.getServerInformation().getListener());
            Services.securityRegistry().setAuthenticatorProvider(providerInput -> authenticator);
            Services.initializerRegistry().setClientInitializer(new ChannelStamp());
            DisconnectLog disconnects = new DisconnectLog();
            Services.eventRegistry().setClientLifecycleEventListener(providerInput -> disconnects);
        }

        @Override
        public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
            // nothing to release
        }
    }
}
