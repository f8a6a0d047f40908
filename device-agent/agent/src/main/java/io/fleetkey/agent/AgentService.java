package io.fleetkey.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.fleetkey.agent.AgentCli.Door;
import io.fleetkey.agent.AgentCli.Failure;
import io.fleetkey.agent.AgentCli.Options;
import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.protocol.FailureCode;

/**
 * {@code fleetkey-agent run}: the device's long-running service. Enrolls when the directory
 * holds no identity (or only one that ended while the device was off), retrying while the
 * server is unreachable; asks the CRL on start whether the device is revoked; then keeps the
 * identity current with a {@link DeviceAgent} and, when an MQTT address is configured, listens
 * for the device's events. Ends with 0 on a stop signal, with {@value AgentCli#REVOKED} when the
 * device is revoked (a service manager must not restart it), and with the enrollment's status
 * when enrollment is refused.
 */
final class AgentService {
    private static final System.Logger LOG = System.getLogger(AgentService.class.getName());
    private static final Duration STATE_POLL = Duration.ofSeconds(1);

    private final AgentCli cli;
    private final Options options;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    AgentService(AgentCli cli, Options options) {
        this.cli = cli;
        this.options = options;
    }

    /** Asks {@link #run()} to return 0. */
    void stop() {
        stop.countDown();
    }

    /** On SIGTERM: stop, and let the service close its connections before the JVM goes. */
    private void stopAndWait() {
        stop();
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    int run() throws UsageException, Failure, InterruptedException {
        Door door = Door.of(options);
        URI address = door.address(options);
        Path caFile = Path.of(options.required(AgentCli.CA_CERT));
        List<X509Certificate> anchors = AgentCli.trustAnchors(caFile);
        IdentityDirectory directory = cli.directory(options);
        RenewalPolicy policy;
        try {
            policy = options.settings.renewalPolicy();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Thread hook = new Thread(this::stopAndWait, "fleetkey-agent-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            DeviceIdentity identity = enrolledIdentity(door, address, anchors, directory, policy);
            return serve(door, address, anchors, directory, policy, identity);
        } catch (InterruptedException | Stopped e) {
            // An embedding application stopping the service, or a stop while enrolling: a stop like any other.
            cli.out().println("Stopped.");
            return AgentCli.OK;
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is stopping; the hook has run
            }
        }
    }

    /** The current identity, enrolling first when there is none or it has ended. */
    private DeviceIdentity enrolledIdentity(Door door, URI address, List<X509Certificate> anchors,
                                            IdentityDirectory directory, RenewalPolicy policy)
            throws UsageException, Failure, InterruptedException {
        Optional<DeviceIdentity> existing = AgentCli.loadIdentity(directory);
        if (existing.isPresent() && Instant.now().isBefore(existing.get().notAfter())) {
            return existing.get();
        }
        existing.ifPresent(ended -> cli.err().println("fleetkey-agent: the certificate of device '" + ended.deviceId()
                + "' ended at " + ended.notAfter() + " while the device was off; enrolling again"));
        String deviceId = options.value(AgentCli.DEVICE_ID)
                .or(() -> existing.map(DeviceIdentity::deviceId))
                .orElseThrow(() -> new UsageException("missing --device-id (or 'device-id' in the --config file)"));
        DeviceKeyType keyType = cli.keyType(options);
        AgentCli.Credentials credentials;
        try {
            credentials = cli.credentials(options);
        } catch (UsageException e) {
            if (existing.isEmpty()) {
                throw e;
            }
            throw new Failure(AgentCli.LOCAL_PROBLEM, "the certificate of device '" + existing.get().deviceId()
                    + "' has ended and there is nothing to enroll again with: " + e.getMessage());
        }
        List<CsrAttributeSource> sources = cli.attributeSources(options, credentials.factory());
        SecureRandom random = new SecureRandom();
        for (int attempt = 1; ; attempt++) {
            try (IdentityDirectory.Lock lock = AgentCli.lock(directory)) {
                if (existing.isPresent()) {
                    directory.forget(); // the ended identity is of no use; enroll afresh
                }
                try (EstTransport est = door.transport(address, deviceId, anchors, null)) {
                    DeviceIdentity enrolled = new DeviceEnroller(est, anchors, directory, sources).withKeyType(keyType)
                            .enroll(deviceId, credentials.token());
                    cli.out().println("Enrolled device '" + enrolled.deviceId() + "': certificate "
                            + enrolled.serialHex() + ", valid until " + enrolled.notAfter());
                    return enrolled;
                }
            } catch (EstException e) {
                if (e.code().filter(c -> c == FailureCode.UNAVAILABLE).isEmpty()) {
                    int status = e.code().filter(c -> c == FailureCode.DEVICE_REVOKED).isPresent()
                            ? AgentCli.REVOKED : AgentCli.REFUSED;
                    throw new Failure(status, AgentCli.explain(e, false, deviceId));
                }
                if (waitBeforeTrying("the server is busy: " + e.reason(), policy.backoff(attempt, random))) {
                    throw new Stopped();
                }
            } catch (EnrollmentPendingException e) {
                Duration wait = e.retryAfter().compareTo(Duration.ofSeconds(1)) >= 0 ? e.retryAfter()
                        : policy.backoff(attempt, random);
                cli.out().println("Waiting for a fleet manager's approval (" + e.reason() + "); asking again in "
                        + wait.toSeconds() + " s");
                if (stop.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new Stopped();
                }
            } catch (IOException e) {
                Failure failure = AgentCli.io(e, door, address, Path.of(options.required(AgentCli.CA_CERT)), directory);
                if (failure.status() != AgentCli.UNREACHABLE) {
                    throw failure; // a broker that refuses the device, a file problem: retrying will not help
                }
                if (waitBeforeTrying(failure.getMessage(), policy.backoff(attempt, random))) {
                    throw new Stopped();
                }
            }
        }
    }

    private int serve(Door door, URI address, List<X509Certificate> anchors, IdentityDirectory directory,
                      RenewalPolicy policy, DeviceIdentity identity)
            throws UsageException, Failure, InterruptedException {
        List<CsrAttributeSource> sources = cli.attributeSources(options, Optional.empty());
        DeviceKeyType keyType = cli.keyType(options);
        AtomicReference<DeviceAgent> agentRef = new AtomicReference<>();
        DeviceAgent.Renewal renewal = () -> {
            DeviceIdentity current = agentRef.get().identity().orElseThrow(() ->
                    new IOException("no identity to renew with"));
            try (EstTransport est = door.transport(address, current.deviceId(), anchors, current)) {
                return new DeviceEnroller(est, anchors, directory, sources).withKeyType(keyType).renew();
            }
        };
        DeviceAgent agent;
        try {
            agent = DeviceAgent.start(directory, anchors, renewal, policy);
        } catch (IOException e) {
            throw new Failure(AgentCli.LOCAL_PROBLEM, "the identity in " + directory.dir() + " cannot be read: "
                    + AgentCli.describe(e));
        }
        agentRef.set(agent);
        DeviceEvents events = null;
        try (agent) {
            checkCrl(agent, anchors);
            Optional<String> mqtt = options.value(AgentCli.MQTT);
            cli.out().println("Running for device '" + identity.deviceId() + "': certificate " + identity.serialHex()
                    + " valid until " + identity.notAfter() + "; renewal due at "
                    + agent.status().nextAttempt().map(Instant::toString).orElse("-"));
            boolean first = true;
            while (first || !stopped()) {
                first = false;
                DeviceAgent.State state = agent.status().state();
                if (mqtt.isPresent() && events == null && state != DeviceAgent.State.REVOKED) {
                    // Connects and reconnects on its own thread, so this loop always sees a stop at once.
                    String topic = io.fleetkey.protocol.MqttTopics.events(identity.deviceId());
                    try {
                        events = DeviceEvents.start(URI.create(mqtt.get()), identity.deviceId(), agent.sslContext(),
                                notice -> onNotice(agent, notice),
                                () -> cli.out().println("Listening for device events on " + topic),
                                (problem, seconds) -> cli.err().println("fleetkey-agent: not listening for device "
                                        + "events (" + problem + "); trying again in " + seconds + " s"));
                    } catch (IllegalArgumentException e) {
                        throw new Failure(AgentCli.USAGE, "the MQTT address '" + mqtt.get() + "' is not usable: "
                                + e.getMessage() + " (use ssl://host:8883)");
                    }
                }
                if (state == DeviceAgent.State.REVOKED) {
                    throw new Failure(AgentCli.REVOKED, "device '" + identity.deviceId() + "' is revoked ("
                            + agent.status().lastProblem().orElse("") + "). Its certificate is no longer presented and "
                            + "the agent stops here; a fleet manager has to register a replacement.");
                }
                if (state == DeviceAgent.State.EXPIRED) {
                    throw new Failure(AgentCli.LOCAL_PROBLEM, "the certificate of device '" + identity.deviceId()
                            + "' ended before a renewal succeeded (" + agent.status().lastProblem().orElse("")
                            + "); start 'run' again with the factory identity or a new token to enroll afresh");
                }
            }
            cli.out().println("Stopped.");
            return AgentCli.OK;
        } finally {
            if (events != null) {
                events.close();
            }
        }
    }

    private static void onNotice(DeviceAgent agent, DeviceEvents.Notice notice) {
        if ("revoked".equals(notice.event())) {
            agent.revoked("the server's notice on the events topic"
                    + (notice.reason() == null ? "" : ": " + notice.reason()));
        } else if ("renew-now".equals(notice.event())) {
            LOG.log(System.Logger.Level.INFO, "A fleet manager asks for a renewal now");
            agent.renewNow();
        }
    }

    /** Says what failed and waits; true when a stop came instead. */
    private boolean waitBeforeTrying(String problem, Duration wait) throws InterruptedException {
        cli.err().println("fleetkey-agent: " + problem + "; trying again in " + wait.toSeconds() + " s");
        return stop.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A stop that came while enrolling. */
    private static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }

    /** Waits a moment for a stop signal; an interrupt (an embedding application stopping the service) is one too. */
    private boolean stopped() {
        try {
            return stop.await(STATE_POLL.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            return true;
        }
    }

    /** Asks the CRL once; an unreachable CRL is not a reason to stop (the device may be offline). */
    private void checkCrl(DeviceAgent agent, List<X509Certificate> anchors) throws InterruptedException {
        try {
            RevocationCheck.Answer answer = agent.checkRevocation(new RevocationCheck(HttpClient.newBuilder()
                    .sslContext(AgentTls.trusting(anchors)).connectTimeout(Duration.ofSeconds(15)).build()));
            if (answer instanceof RevocationCheck.Answer.Good) {
                LOG.log(System.Logger.Level.INFO, "The CRL does not list this device's certificate");
            }
        } catch (IOException | IllegalStateException e) {
            cli.err().println("fleetkey-agent: could not ask the CRL whether the device is revoked: " + e.getMessage());
        }
    }
}
