package io.fleetkey.agent;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509KeyManager;

import io.fleetkey.protocol.FailureCode;

/**
 * The running agent, for applications: it keeps the device's identity current and hands out
 * one {@link SSLContext} (and {@link X509KeyManager}) that always presents the current
 * certificate, so a POS terminal's HTTPS client keeps working across renewals without being
 * rebuilt. Renewal runs on one daemon thread at the {@link RenewalPolicy}'s time; failures
 * back off and retry until the certificate ends; a revoked device stops presenting its
 * certificate and stops trying. State lives in the {@link CredentialStore}, so an agent that
 * restarts (even in the middle of a renewal: the pending key is sent again) simply carries on.
 */
public final class DeviceAgent implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceAgent.class.getName());

    /** One renewal on the configured door (for example {@code DeviceEnroller::renew}). */
    @FunctionalInterface
    public interface Renewal {
        DeviceIdentity renew() throws EstException, EnrollmentPendingException, IOException, InterruptedException;
    }

    /** Where the agent stands. */
    public enum State {
        /** No identity in the directory: the device has to enroll first. */
        NOT_ENROLLED,
        /** A current certificate, renewal scheduled. */
        ENROLLED,
        /** The last renewal attempt failed; the agent retries with backoff while the certificate lasts. */
        RETRYING,
        /** The certificate ended before a renewal succeeded: the device must enroll again (factory identity or token). */
        EXPIRED,
        /** The device or its certificate is revoked: nothing is presented, nothing is retried. */
        REVOKED
    }

    /** What {@link #status()} reports. */
    public record Status(State state, Optional<DeviceIdentity> identity, Optional<Instant> nextAttempt,
                         Optional<String> lastProblem) {
    }

    private final CredentialStore directory;
    private final Renewal renewal;
    private final RenewalPolicy policy;
    private final Clock clock;
    private final RandomGenerator random;
    private final ScheduledExecutorService scheduler;
    private final IdentityKeyManager keyManager;
    private final SSLContext sslContext;

    private volatile DeviceIdentity current;
    private volatile State state;
    private volatile Instant nextAttempt;
    private volatile String lastProblem;
    private ScheduledFuture<?> pending;
    private int failures;

    private DeviceAgent(CredentialStore directory, List<X509Certificate> anchors, Renewal renewal,
                        RenewalPolicy policy, Clock clock, RandomGenerator random) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.renewal = Objects.requireNonNull(renewal, "renewal");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = clock;
        this.random = random;
        this.keyManager = new IdentityKeyManager(() -> state == State.REVOKED ? null : current);
        this.sslContext = AgentTls.trusting(anchors, () -> state == State.REVOKED ? null : current);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleetkey-renewal");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Loads the identity from the directory and schedules its renewal.
     *
     * @param anchors the pinned Fleetkey CA certificates the application's TLS context trusts
     * @throws IOException when the directory holds an unreadable identity
     */
    public static DeviceAgent start(CredentialStore directory, List<X509Certificate> anchors, Renewal renewal,
                                    RenewalPolicy policy) throws IOException {
        return start(directory, anchors, renewal, policy, Clock.systemUTC(), new SecureRandom());
    }

    static DeviceAgent start(CredentialStore directory, List<X509Certificate> anchors, Renewal renewal,
                             RenewalPolicy policy, Clock clock, RandomGenerator random) throws IOException {
        DeviceAgent agent = new DeviceAgent(directory, anchors, renewal, policy, clock, random);
        agent.current = directory.load().orElse(null);
        synchronized (agent) {
            if (agent.current == null) {
                agent.state = State.NOT_ENROLLED;
            } else if (!clock.instant().isBefore(agent.current.notAfter())) {
                agent.state = State.EXPIRED;
                agent.lastProblem = "the certificate ended at " + agent.current.notAfter();
            } else {
                agent.state = State.ENROLLED;
                agent.scheduleAt(policy.renewalTime(agent.current.certificate().getNotBefore().toInstant(),
                        agent.current.notAfter(), random));
            }
        }
        return agent;
    }

    /** The TLS context for the application's connections: trusts the pinned anchors, presents the current certificate. */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** The key manager inside {@link #sslContext()}, for applications that build their own context. */
    public X509KeyManager keyManager() {
        return keyManager;
    }

    /** The identity presented now; empty before enrollment and once revoked. */
    public Optional<DeviceIdentity> identity() {
        return state == State.REVOKED ? Optional.empty() : Optional.ofNullable(current);
    }

    public Status status() {
        return new Status(state, Optional.ofNullable(current), Optional.ofNullable(nextAttempt),
                Optional.ofNullable(lastProblem));
    }

    /** Renews as soon as possible (a fleet manager's "renew now"); no effect once revoked or expired. */
    public synchronized void renewNow() {
        if (state == State.ENROLLED || state == State.RETRYING) {
            failures = 0;
            scheduleAt(clock.instant());
        }
    }

    /**
     * The device was told it is revoked (its MQTT events topic, or the CRL): stop presenting the
     * certificate and stop renewing. Revocation is final; the device needs a new identity.
     */
    public synchronized void revoked(String why) {
        if (state != State.REVOKED) {
            LOG.log(Level.ERROR, "Device {0} is revoked ({1}); its certificate is no longer presented and the agent "
                    + "stops renewing. A fleet manager has to register a replacement.", deviceId(), why);
        }
        state = State.REVOKED;
        forgetTlsSessions();
        lastProblem = "revoked: " + why;
        nextAttempt = null;
        cancelPending();
    }

    /**
     * Asks the CRL whether this device's certificate is revoked, and acts on a yes.
     *
     * @throws IOException when the CRL cannot be fetched or trusted; the agent's state stays as it
     *                     was (the device may simply be offline), and the caller decides what to say
     */
    public RevocationCheck.Answer checkRevocation(RevocationCheck check) throws IOException, InterruptedException {
        DeviceIdentity identity = current;
        if (identity == null) {
            throw new IllegalStateException("the device has no identity to check");
        }
        RevocationCheck.Answer answer = check.check(identity);
        if (answer instanceof RevocationCheck.Answer.Revoked r) {
            revoked("certificate " + identity.serialHex() + " is on the CRL since " + r.at()
                    + (r.reason() == null ? "" : " (" + r.reason() + ")"));
        }
        return answer;
    }

    /** Stops the renewal thread; the SSL context keeps presenting the last identity. */
    @Override
    public void close() {
        scheduler.shutdownNow();
    }

    /**
     * A resumed TLS session skips client authentication and would keep showing the old
     * certificate: drop the cached ones so the next connection presents the current identity.
     */
    private void forgetTlsSessions() {
        javax.net.ssl.SSLSessionContext sessions = sslContext.getClientSessionContext();
        for (var ids = sessions.getIds(); ids.hasMoreElements(); ) {
            javax.net.ssl.SSLSession session = sessions.getSession(ids.nextElement());
            if (session != null) {
                session.invalidate();
            }
        }
    }

    private void scheduleAt(Instant when) {
        cancelPending();
        nextAttempt = when;
        long delay = Math.max(0, Duration.between(clock.instant(), when).toMillis());
        pending = scheduler.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
    }

    private void cancelPending() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    private void attempt() {
        synchronized (this) {
            if (state == State.REVOKED || state == State.EXPIRED || state == State.NOT_ENROLLED) {
                return;
            }
        }
        try (CredentialStore.Lock lock = lockOrRetry()) {
            if (lock == null) {
                return;
            }
            DeviceIdentity onDisk = directory.load().orElse(null);
            if (onDisk != null && current != null && !onDisk.serialHex().equals(current.serialHex())) {
                // Renewed meanwhile by another process (the command line's renew): carry on with that one.
                synchronized (this) {
                    if (state != State.REVOKED) {
                        adopt(onDisk);
                    }
                }
                return;
            }
            DeviceIdentity renewed = renewal.renew();
            synchronized (this) {
                if (state == State.REVOKED) {
                    return; // told of the revocation while the request was out
                }
                adopt(renewed);
                LOG.log(Level.INFO, "Renewed the certificate of device {0}: serial {1}, valid until {2}",
                        renewed.deviceId(), renewed.serialHex(), renewed.notAfter());
            }
        } catch (EnrollmentPendingException e) {
            retry("the renewal waits for a fleet manager's approval", e.retryAfter());
        } catch (EstException e) {
            if (e.code().filter(code -> code == FailureCode.DEVICE_REVOKED).isPresent()) {
                revoked(e.getMessage());
            } else {
                retry("the server refused the renewal: " + e.getMessage(), null);
            }
        } catch (IOException e) {
            retry("the server could not be reached: " + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // Never let the renewal thread end quietly: what failed is retried like the rest.
            retry("the renewal failed: " + e, null);
        }
    }

    /** Makes an identity the current one and schedules its renewal. Holds this. */
    private void adopt(DeviceIdentity identity) {
        current = identity;
        forgetTlsSessions();
        state = State.ENROLLED;
        failures = 0;
        lastProblem = null;
        scheduleAt(policy.renewalTime(identity.certificate().getNotBefore().toInstant(), identity.notAfter(), random));
    }

    /** The store's lock, or null after scheduling another try when another process holds it. */
    private CredentialStore.Lock lockOrRetry() {
        try {
            return directory.lock();
        } catch (IOException e) {
            retry("the identity store is busy (" + e.getMessage() + ")", Duration.ofSeconds(5));
            return null;
        }
    }

    /** Schedules the next try, or gives up when the certificate will have ended by then. */
    private synchronized void retry(String problem, Duration after) {
        if (state == State.REVOKED) {
            return;
        }
        failures++;
        lastProblem = problem;
        // A zero Retry-After or Max-Age must not become a tight loop.
        Duration wait = after != null && after.compareTo(Duration.ofSeconds(1)) >= 0 ? after
                : policy.backoff(failures, random);
        Instant when = clock.instant().plus(wait);
        Instant end = current.notAfter();
        if (!when.isBefore(end)) {
            // One last try just before the end, then the device must enroll again.
            when = end.minusSeconds(1);
            if (!when.isAfter(clock.instant())) {
                state = State.EXPIRED;
                nextAttempt = null;
                LOG.log(Level.ERROR, "The certificate of device {0} ended at {1} before a renewal succeeded ({2}); "
                        + "enroll again with the factory identity or a new token", deviceId(), end, problem);
                return;
            }
        }
        state = State.RETRYING;
        LOG.log(Level.WARNING, "Renewal of device {0} failed ({1}); trying again at {2}", deviceId(), problem, when);
        scheduleAt(when);
    }

    private String deviceId() {
        DeviceIdentity identity = current;
        return identity == null ? "?" : identity.deviceId();
    }
}
