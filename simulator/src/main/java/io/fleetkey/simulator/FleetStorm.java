package io.fleetkey.simulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.agent.AttestationSource;
import io.fleetkey.agent.CsrAttributeSource;
import io.fleetkey.agent.DeviceEnroller;
import io.fleetkey.agent.DeviceIdentity;
import io.fleetkey.agent.DeviceKeyType;
import io.fleetkey.agent.EnrollmentPendingException;
import io.fleetkey.agent.EstCoapsClient;
import io.fleetkey.agent.EstException;
import io.fleetkey.agent.EstHttpsClient;
import io.fleetkey.agent.EstMqttClient;
import io.fleetkey.agent.EstTransport;
import io.fleetkey.agent.FactoryIdentity;
import io.fleetkey.agent.MemoryCredentialStore;
import io.fleetkey.simulator.factory.IdevidBatch;
import io.fleetkey.simulator.report.Door;
import io.fleetkey.simulator.report.Operation;
import io.fleetkey.simulator.report.ProgressLine;
import io.fleetkey.simulator.report.RunRecorder;
import io.fleetkey.simulator.report.RunReport;

/**
 * A fleet of simulated devices, each driven by the device agent's own enrollment code
 * ({@link DeviceEnroller} over the agent's HTTPS, CoAP/DTLS or MQTT client, a
 * {@link MemoryCredentialStore} for its key), through up to three phases:
 * <ol>
 * <li>first boot: every device enrolls with its one-time token on its door, all at once or
 * ramped at R devices a second;</li>
 * <li>renewal wave (optional): every enrolled device renews with its new certificate;</li>
 * <li>churn (optional): a share of the enrolled fleet comes and goes, all interleaved: half of
 * it was away and comes back (it renews with the certificate it kept), the other half was
 * reset (the fleet API issues a new token, the device makes a fresh key and enrolls again), and
 * as many new devices join (registered through the fleet API, then their first boot);</li>
 * <li>revocation (optional): a share of the enrolled devices is revoked through the fleet API in
 * one call, then each of them tries to renew on its door and must be turned away.</li>
 * </ol>
 * C devices work at a time, on one pool of C threads shared by all devices and phases: never a
 * thread per device. First enrollments over HTTPS share one client and its keep-alive
 * connections (the token is in the CSR, so the protocol allows it); a renewal presents the
 * device's own certificate, so it gets a client of its own, as does every CoAP (one DTLS
 * handshake each) and MQTT (one broker connection each) operation, closed when it is done.
 * Registration and key generation happen before the clock starts.
 */
final class FleetStorm {
    static final String SCENARIO = "storm";
    static final String REVOCATION_REASON = "keyCompromise";
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final EstHttpsClient.Timeouts HTTPS_TIMEOUTS =
            new EstHttpsClient.Timeouts(Duration.ofSeconds(10), REQUEST_TIMEOUT);

    /**
     * The server's doors; CoAP and MQTT may be null when the mix does not use them.
     *
     * @param mqttCertified where MQTT devices that hold a Fleetkey certificate connect, when an
     *                      external broker has a listener of its own for them; else null
     */
    record Doors(URI https, URI coaps, URI mqtt, URI mqttCertified) {
        Doors(URI https, URI coaps, URI mqtt) {
            this(https, coaps, mqtt, null);
        }

        Optional<URI> of(Door door) {
            return Optional.ofNullable(switch (door) {
                case HTTPS -> https;
                case COAP -> coaps;
                case MQTT -> mqtt;
            });
        }
    }

    /**
     * @param rampPerSecond devices starting their first boot per second, or 0 for all at once
     * @param churnShare    share of the fleet that comes and goes after the renewal wave (0 to 1), as many joining
     * @param revokeShare   share of the enrolled devices to revoke and check (0 to 1)
     * @param baseline      how long to measure the crypto-only baseline before the run; zero for none
     * @param coapFault     loss and delay on the CoAP devices' link for the whole run, or null for a clean link
     */
    record Settings(Doors doors, List<X509Certificate> anchors, String adminToken, int devices, int concurrency,
                    DoorMix mix, double rampPerSecond, boolean renew, double churnShare, double revokeShare, String group,
                    Duration timeout, Duration baseline, CoapFault coapFault) {
        Settings {
            for (Door door : mix.weights().keySet()) {
                if (doors.of(door).isEmpty()) {
                    throw new IllegalArgumentException("the door mix uses " + door.label() + " but no address for it "
                            + "was given (--" + (door == Door.COAP ? "coap" : "mqtt") + ")");
                }
            }
        }

        /** What the report shows of the settings; the token stays out. */
        Map<String, String> describe() {
            Map<String, String> shown = new LinkedHashMap<>();
            shown.put("server", doors.https().toString());
            doors.of(Door.COAP).ifPresent(u -> shown.put("coap", u.toString()));
            doors.of(Door.MQTT).ifPresent(u -> shown.put("mqtt", u.toString()));
            shown.put("devices", Integer.toString(devices));
            shown.put("concurrency", Integer.toString(concurrency));
            shown.put("doors", mix.describe());
            shown.put("first boot", rampPerSecond > 0 ? String.format(Locale.ROOT, "ramp of %.0f/s", rampPerSecond)
                    : "all at once");
            shown.put("renewal wave", renew ? "yes" : "no");
            if (churnShare > 0) {
                shown.put("churn", String.format(Locale.ROOT, "%.1f%% of the fleet away or reset, as many joining",
                        churnShare * 100));
            }
            shown.put("revoked share", String.format(Locale.ROOT, "%.1f%%", revokeShare * 100));
            if (coapFault != null) {
                shown.put("CoAP link", coapFault.describe());
            }
            shown.put("group", group);
            shown.put("timeout", timeout.toString());
            return shown;
        }
    }

    /** A lossy, slow link between the CoAP devices and the CoAP door (a {@link UdpFaultRelay}). */
    record CoapFault(double loss, Duration delay) {
        String describe() {
            return String.format(Locale.ROOT, "%.1f%% of datagrams lost each way, %d ms delay", loss * 100,
                    delay.toMillis());
        }
    }

    /**
     * One device: its id, door, token, the store that holds its key and certificate, and its
     * factory identity when it proves itself with that on first boot (null: with the token).
     */
    private record Device(String id, Door door, String token, MemoryCredentialStore store, FactoryIdentity factory) {
        Optional<DeviceIdentity> identity() {
            return store.load();
        }
    }

    /** What one phase does with one device, reporting to its own series; true when it succeeded. */
    private interface Step {
        boolean run(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException;
    }

    /** Something the simulator started and can stop and start again mid-storm: the server or its broker. */
    interface Restartable {
        /** What it is, for the report: "server", "MQTT broker". */
        String what();

        void stop() throws Exception;

        /** Starts it again on the same data and ports; returns when it accepts connections. */
        void startAgain() throws IOException;
    }

    /** One device's step in a phase, counted under its operation. */
    private record Job(Device device, Operation operation, Step step) {
    }

    private final Settings settings;
    private final PrintStream out;
    private final boolean terminal;
    private SSLContext tls;
    private EstHttpsClient sharedHttps;
    /** Where CoAP devices send their datagrams: the door, or the fault relay in front of it. */
    private URI coapPath;
    private final LongAdder coapSucceeded = new LongAdder();
    private final LongAdder coapUnsuccessful = new LongAdder();

    private final boolean narrate;
    private Restartable restartable;
    private Duration restartAfter;
    /** MQTT devices reach the server through an external broker, so a renewal carries a statement signed with the current key. */
    private boolean externalBroker;
    private boolean factoryIdentities;
    /** Devices whose first boot did not succeed: tried once more after a server restart. */
    private final java.util.Queue<Device> unsuccessfulFirstBoot = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private FleetApiClient fleet;
    /** Devices reset during churn, with their new token and store, by id. */
    private final Map<String, Device> resetDevices = new ConcurrentHashMap<>();

    /** @param terminal whether {@code out} is a terminal, where progress is redrawn in place */
    FleetStorm(Settings settings, PrintStream out, boolean terminal) {
        this(settings, out, terminal, false);
    }

    /** @param narrate also print what happened to each revoked device, for a small run someone watches */
    FleetStorm(Settings settings, PrintStream out, boolean terminal, boolean narrate) {
        this.settings = settings;
        this.out = out;
        this.terminal = terminal;
        this.narrate = narrate;
    }

    /**
     * During first boot, {@code after} its start, stops the server or broker the simulator
     * started and starts it again on the same data and ports: a fault in the report. Once the
     * server reports every door up again, devices whose first boot did not succeed are tried
     * once more ({@code reconnect}), which says what recovered.
     */
    void restartDuring(Restartable target, Duration after) {
        this.restartable = target;
        this.restartAfter = after;
    }

    /** MQTT devices talk to the server through an external broker: renewals prove the device in the CSR. */
    void throughExternalBroker() {
        this.externalBroker = true;
    }

    /**
     * Devices prove themselves on first boot with a statement signed by a factory identity
     * (IDevID) instead of their token: the storm makes a maker CA and an IDevID per device, and
     * registers the maker CA with a new group.
     */
    void firstBootWithFactoryIdentities() {
        this.factoryIdentities = true;
    }

    RunReport run() throws FleetApiClient.FleetApiException, IOException, InterruptedException {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        tls = AgentTls.trusting(settings.anchors());
        sharedHttps = new EstHttpsClient(settings.doors().https(), tls, HTTPS_TIMEOUTS);
        fleet = new FleetApiClient(settings.doors().https(), tls, settings.adminToken());
        awaitServerReady(Duration.ofSeconds(60));
        int n = settings.devices();

        String runId = Long.toString(System.currentTimeMillis(), 36);
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = EnrollStorm.deviceId(settings.group(), runId, i);
        }
        int churnCount = (int) Math.round(settings.churnShare() * n);
        String[] joinIds = new String[churnCount];
        for (int j = 0; j < churnCount; j++) {
            joinIds[j] = EnrollStorm.deviceId(settings.group(), runId, n + j);
        }
        IdevidBatch idevids = null;
        if (factoryIdentities) {
            long start = System.nanoTime();
            String[] all = Stream.concat(Arrays.stream(ids), Arrays.stream(joinIds)).toArray(String[]::new);
            idevids = IdevidBatch.make(settings.group() + " devices", all);
            out.printf(Locale.ROOT, "Made a maker CA and %d factory identities (IDevIDs) in %.1f s%n", all.length,
                    (System.nanoTime() - start) / 1e9);
        }
        String[] tokens = EnrollStorm.register(fleet, settings.group(),
                idevids == null ? List.of() : List.of(idevids.makerCaPem()), ids, out, deadline);
        long prepareStart = System.nanoTime();
        List<Device> devices = prepare(ids, tokens, settings.mix().assign(n), idevids, 0);
        out.printf(Locale.ROOT, "Prepared %d device keys in %.1f s%n", n, (System.nanoTime() - prepareStart) / 1e9);
        List<Device> joining = List.of();
        if (churnCount > 0) {
            // Registered now, as a fleet manager would ahead of a delivery; they first boot during churn.
            out.printf(Locale.ROOT, "Registering %d devices that join during churn%n", churnCount);
            joining = prepare(joinIds, EnrollStorm.register(fleet, settings.group(), joinIds, out, deadline),
                    settings.mix().assign(churnCount), idevids, n);
        }

        RunReport.Baseline baseline = null;
        if (!settings.baseline().isZero()) {
            int cores = Runtime.getRuntime().availableProcessors();
            out.printf(Locale.ROOT, "Measuring the crypto-only baseline (%s) on %d threads for %d s...%n",
                    CryptoBaseline.NAME, cores, settings.baseline().toSeconds());
            baseline = CryptoBaseline.measure(settings.baseline(), cores);
            out.printf(Locale.ROOT, "Baseline: %.0f sign+verify a second%n", baseline.perSecond());
        }
        Map<String, String> shown = settings.describe();
        shown.put("first boot proof", factoryIdentities ? "factory identity (IDevID) statement" : "one-time token");
        RunRecorder recorder = RunRecorder.start(SCENARIO, shown);
        if (baseline != null) {
            recorder.baseline(baseline);
        }
        UdpFaultRelay relay = null;
        RunRecorder.FaultRecorder fault = null;
        coapPath = settings.doors().coaps();
        if (settings.coapFault() != null && coapPath != null) {
            URI door = coapPath;
            relay = new UdpFaultRelay(new InetSocketAddress(door.getHost(), door.getPort() < 0
                    ? EstCoapsClient.DEFAULT_PORT : door.getPort()), settings.coapFault().loss(), settings.coapFault().delay());
            coapPath = URI.create("coaps://127.0.0.1:" + relay.address().getPort());
            fault = recorder.faultBegins("CoAP link", settings.coapFault().describe());
            out.println("CoAP devices go through a relay on " + coapPath + ": " + settings.coapFault().describe());
        }
        int revokeCount = (int) Math.round(settings.revokeShare() * n); // at most; fewer if fewer enrolled
        long planned = n + (settings.renew() ? n : 0) + 2L * churnCount + 2L * revokeCount;
        ExecutorService pool = Executors.newFixedThreadPool(settings.concurrency(), EnrollStorm.daemonThreads("device"));
        try (ProgressLine progress = ProgressLine.start(out, terminal, planned, recorder::progress)) {
            out.printf(Locale.ROOT, "First boot: %d devices (%s), %s, %d at a time%n", n, settings.mix().describe(),
                    settings.rampPerSecond() > 0 ? String.format(Locale.ROOT, "%.0f a second", settings.rampPerSecond())
                            : "all at once", settings.concurrency());
            Thread restart = restartable == null ? null : restartThread(recorder);
            phase(pool, recorder, jobs(devices, Operation.ENROLL, this::enroll), settings.rampPerSecond(), deadline);
            if (restart != null) {
                restart.join();
                retryAfterRestart(pool, recorder, deadline);
            }
            List<Device> enrolled = devices.stream().filter(d -> d.identity().isPresent()).toList();
            if (settings.renew()) {
                out.printf(Locale.ROOT, "Renewal wave: %d enrolled devices renew%n", enrolled.size());
                phase(pool, recorder, jobs(enrolled, Operation.RENEW, this::renew), 0, deadline);
            }
            if (churnCount > 0) {
                enrolled = churn(pool, recorder, enrolled, joining, churnCount, deadline);
            }
            if (revokeCount > 0) {
                List<Device> chosen = evenlySpread(enrolled, Math.min(revokeCount, enrolled.size()));
                out.printf(Locale.ROOT, "Revocation: %d devices revoked through the fleet API, then each must be turned "
                        + "away on its door%n", chosen.size());
                revoke(fleet, recorder, chosen, deadline);
                phase(pool, recorder, jobs(chosen, Operation.CUT_OFF, this::checkCutOff), 0, deadline);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            if (relay != null) {
                relay.close();
                fault.ends();
                fault.recovery(coapSucceeded.sum(), coapUnsuccessful.sum(), String.format(Locale.ROOT,
                        "CoAP operations that got through despite the link (%d datagrams relayed, %d dropped)",
                        relay.relayed(), relay.dropped()));
            }
        }
        return recorder.finish();
    }

    /** Waits until the server reports every door up (an external broker may still be connecting). */
    private void awaitServerReady(Duration limit) throws IOException, InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (!fleet.healthy()) {
            if (System.nanoTime() > until) {
                throw new IOException("the server did not report every door up (GET /health) within "
                        + limit.toSeconds() + " s");
            }
            Thread.sleep(200);
        }
    }

    private RunRecorder.FaultRecorder restartFault;
    private volatile boolean serverBack;

    private Thread restartThread(RunRecorder recorder) {
        String what = restartable.what();
        Thread thread = new Thread(() -> {
            try {
                Thread.sleep(restartAfter.toMillis());
                restartFault = recorder.faultBegins(what + " restart", "the " + what + " the simulator started stopped "
                        + "after " + restartAfter.toSeconds() + " s of first boot and started again on the same data and ports");
                long down = System.nanoTime();
                out.println("Stopping the " + what + "...");
                restartable.stop();
                restartable.startAgain();
                // The server's doors may take a moment more: its MQTT listener reconnects to a broker with back-off.
                awaitServerReady(Duration.ofSeconds(60));
                restartFault.ends();
                serverBack = true;
                out.printf(Locale.ROOT, "The %s is back, and the server up on every door, after %.1f s%n", what,
                        (System.nanoTime() - down) / 1e9);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                out.println("The " + what + " did not come back: " + e);
                if (restartFault != null) {
                    restartFault.recovery(0, 0, "the " + what + " did not start again: " + e.getMessage());
                }
            }
        }, "restart");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** The devices whose first boot failed or was refused try once more, now that the server is back. */
    private void retryAfterRestart(ExecutorService pool, RunRecorder recorder, long deadline) throws InterruptedException {
        if (!serverBack) {
            return; // the server did not come back: the fault says so, and a retry would only fail again
        }
        List<Device> again = List.copyOf(unsuccessfulFirstBoot);
        out.printf(Locale.ROOT, "After the " + restartable.what() + " restart: %d devices whose first boot did not "
                + "succeed try once more%n",
                again.size());
        long before = recorder.progress().done() - recorder.progress().unsuccessful();
        phase(pool, recorder, jobs(again, Operation.RECONNECT, this::enroll), 0, deadline);
        long recovered = recorder.progress().done() - recorder.progress().unsuccessful() - before;
        restartFault.recovery(recovered, again.size() - recovered, "devices whose first boot did not succeed, "
                + "tried once more with the same key and token after the " + restartable.what() + " came back");
    }

    /**
     * Keys made before the clock starts, as on a device at the factory.
     *
     * @param idevids the factory identities, the i-th device's at {@code first + i}; or null for token devices
     */
    private static List<Device> prepare(String[] ids, String[] tokens, List<Door> doors, IdevidBatch idevids,
                                        int first) {
        return IntStream.range(0, ids.length).parallel().mapToObj(i -> {
            MemoryCredentialStore store = new MemoryCredentialStore(ids[i]);
            store.pendingKeyPair(DeviceKeyType.P256);
            return new Device(ids[i], doors.get(i), tokens[i], store, idevids == null ? null : idevids.identity(first + i));
        }).toList();
    }

    private static List<Job> jobs(List<Device> devices, Operation operation, Step step) {
        return devices.stream().map(d -> new Job(d, operation, step)).toList();
    }

    /**
     * Churn: {@code count} enrolled devices spread over the fleet leave and come back, every
     * other one as if it had been away (it renews with the certificate it kept) or reset (a
     * new token from the fleet API, a fresh key, first boot again), while the {@code joining}
     * devices enroll for the first time; all interleaved on the same pool.
     *
     * @return the enrolled fleet afterwards: reset devices with their new credentials, joined ones added
     */
    private List<Device> churn(ExecutorService pool, RunRecorder recorder, List<Device> enrolled, List<Device> joining,
                               int count, long deadline) throws InterruptedException {
        List<Device> leaving = spreadOverDoors(enrolled, Math.min(count, enrolled.size()));
        List<Job> jobs = new ArrayList<>(leaving.size() + joining.size());
        for (int j = 0; j < Math.max(leaving.size(), joining.size()); j++) {
            if (j < leaving.size()) {
                jobs.add(j % 2 == 0 ? new Job(leaving.get(j), Operation.RECONNECT, this::renew)
                        : new Job(leaving.get(j), Operation.REJOIN, this::rejoin));
            }
            if (j < joining.size()) {
                jobs.add(new Job(joining.get(j), Operation.JOIN, this::firstBoot));
            }
        }
        out.printf(Locale.ROOT, "Churn: %d devices come back after being away, %d after a reset, %d new devices "
                + "join%n", (leaving.size() + 1) / 2, leaving.size() / 2, joining.size());
        phase(pool, recorder, jobs, settings.rampPerSecond(), deadline);
        List<Device> after = new ArrayList<>(enrolled.size() + joining.size());
        for (Device device : enrolled) {
            after.add(resetDevices.getOrDefault(device.id(), device));
        }
        after.addAll(joining);
        return after.stream().filter(d -> d.identity().isPresent()).toList();
    }

    /** Runs each job's step, C at a time, optionally ramped; whatever the deadline stops is not run. */
    private void phase(ExecutorService pool, RunRecorder recorder, List<Job> jobs, double ratePerSecond, long deadline)
            throws InterruptedException {
        Map<Door, Map<Operation, RunRecorder.SeriesRecorder>> series = new EnumMap<>(Door.class);
        Map<RunRecorder.SeriesRecorder, Long> planned = new HashMap<>();
        for (Job job : jobs) {
            RunRecorder.SeriesRecorder s = series.computeIfAbsent(job.device().door(), d -> new EnumMap<>(Operation.class))
                    .computeIfAbsent(job.operation(), o -> recorder.series(job.device().door(), o));
            planned.merge(s, 1L, Long::sum);
        }
        Map<RunRecorder.SeriesRecorder, LongAdder> finished = new HashMap<>();
        planned.keySet().forEach(s -> finished.put(s, new LongAdder()));
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        CountDownLatch workers = new CountDownLatch(settings.concurrency());
        for (int t = 0; t < settings.concurrency(); t++) {
            pool.execute(() -> {
                try {
                    while (true) {
                        int i = next.getAndIncrement();
                        if (i >= jobs.size()) {
                            return;
                        }
                        if (ratePerSecond > 0) {
                            long due = start + (long) (i * 1e9 / ratePerSecond);
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                        if (System.nanoTime() > deadline) {
                            return;
                        }
                        Job job = jobs.get(i);
                        Device device = job.device();
                        RunRecorder.SeriesRecorder s = series.get(device.door()).get(job.operation());
                        boolean succeeded = job.step().run(device, s, recorder.now());
                        finished.get(s).increment();
                        if (device.door() == Door.COAP) {
                            (succeeded ? coapSucceeded : coapUnsuccessful).increment();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    workers.countDown();
                }
            });
        }
        long waitNanos = Math.max(0, deadline - System.nanoTime()) + REQUEST_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(5);
        workers.await(waitNanos, TimeUnit.NANOSECONDS);
        // Jobs whose step never ended (the time ran out) did not run.
        planned.forEach((s, count) -> s.notRun(Math.max(0, count - finished.get(s).sum())));
    }

    /** First boot in the storm: a device that does not get through is kept for a retry after a server restart. */
    private boolean enroll(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException {
        boolean succeeded = firstBoot(device, series, begin);
        if (!succeeded) {
            unsuccessfulFirstBoot.add(device);
        }
        return succeeded;
    }

    private boolean firstBoot(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException {
        try (Transport transport = transport(device, null)) {
            // A device with an IDevID proves itself with the statement it signs; its token stays unused.
            enroller(transport, device, true).enroll(device.id(), device.factory() == null ? device.token() : null);
            series.succeeded(begin);
            return true;
        } catch (EstException | EnrollmentPendingException e) {
            series.refused(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
        } catch (IOException | RuntimeException e) {
            series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
        }
        return false;
    }

    /**
     * A device reset to factory state: it lost its key and certificate, the fleet manager issues
     * a new token through the fleet API, and the device enrolls again with a fresh key. The time
     * counts from the token request.
     */
    private boolean rejoin(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException {
        String token;
        try {
            token = fleet.newEnrollmentToken(device.id());
        } catch (FleetApiClient.FleetApiException e) {
            series.refused("HTTP_" + e.status(), EnrollStorm.sample(e));
            return false;
        } catch (IOException e) {
            series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
            return false;
        }
        MemoryCredentialStore wiped = new MemoryCredentialStore(device.id());
        wiped.pendingKeyPair(DeviceKeyType.P256);
        // The reset device enrolls with its new token: that is what the fleet manager gave it.
        Device reset = new Device(device.id(), device.door(), token, wiped, null);
        boolean succeeded = firstBoot(reset, series, begin);
        if (succeeded) {
            resetDevices.put(device.id(), reset);
        }
        return succeeded;
    }

    private boolean renew(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException {
        DeviceIdentity identity = device.identity().orElseThrow();
        try (Transport transport = transport(device, identity)) {
            enroller(transport, device, false).renew();
            series.succeeded(begin);
            return true;
        } catch (EstException | EnrollmentPendingException e) {
            series.refused(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
            return false;
        } catch (IOException | RuntimeException e) {
            series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
            return false;
        }
    }

    /**
     * A revoked device tries to renew on its door. Being turned away is the success this check
     * counts: an EST refusal (4xx), a TLS or DTLS handshake the server breaks off, or a broker
     * that refuses the device's login. A renewal that goes through, no answer, a server that
     * cannot be reached or says it is busy: each is a failure, since none shows the device cut off.
     */
    private boolean checkCutOff(Device device, RunRecorder.SeriesRecorder series, long begin) throws InterruptedException {
        DeviceIdentity identity = device.identity().orElseThrow();
        try (Transport transport = transport(device, identity)) {
            enroller(transport, device, false).renew();
            series.failed("NOT_CUT_OFF", "revoked device " + device.id() + " renewed on " + device.door().label());
            tell(device, "NOT cut off: its renewal went through");
            return false;
        } catch (EstException e) {
            if (e.status() / 100 != 4) {
                series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
                return false;
            }
            series.succeeded(begin);
            tell(device, "cut off: the server refused its renewal (" + EnrollStorm.failureKind(e) + ": " + e.reason() + ")");
            return true;
        } catch (IOException e) {
            if (!refusedLogin(e)) {
                series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
                return false;
            }
            series.succeeded(begin);
            tell(device, "cut off: the " + device.door().label() + " door refused it (" + e.getMessage() + ")");
            return true;
        } catch (EnrollmentPendingException | RuntimeException e) {
            series.failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e));
            return false;
        }
    }

    /**
     * Whether the door refused the device itself: the broker's CONNACK says not authorized, bad
     * credentials or client id not valid, or the TLS/DTLS handshake was broken off (the server
     * sends an alert such as certificate_revoked). Not when it was busy, unavailable or unreachable.
     */
    private static boolean refusedLogin(IOException e) {
        if (e instanceof EstMqttClient.BrokerRefusal refusal) {
            return REFUSED_LOGIN.contains(refusal.reasonCode());
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLHandshakeException
                    || t instanceof org.eclipse.californium.scandium.dtls.HandshakeException) {
                return true;
            }
        }
        return false;
    }

    /** CONNACK 0x85 client identifier not valid, 0x86 bad user name or password, 0x87 not authorized. */
    private static final java.util.Set<Integer> REFUSED_LOGIN = java.util.Set.of(0x85, 0x86, 0x87);

    private void tell(Device device, String what) {
        if (narrate) {
            out.printf(Locale.ROOT, "  revoked device %s on %s: %s%n", device.id(), device.door().label(), what);
        }
    }

    /** The fleet API's revoke by list, in chunks it accepts; each device's REVOKE takes the time of its call. */
    private void revoke(FleetApiClient fleet, RunRecorder recorder, List<Device> chosen, long deadline)
            throws InterruptedException {
        Map<Door, RunRecorder.SeriesRecorder> series = new EnumMap<>(Door.class);
        for (Door door : settings.mix().weights().keySet()) {
            series.put(door, recorder.series(door, Operation.REVOKE));
        }
        for (int from = 0; from < chosen.size(); from += FleetApiClient.MAX_BULK) {
            List<Device> chunk = chosen.subList(from, Math.min(chosen.size(), from + FleetApiClient.MAX_BULK));
            if (System.nanoTime() > deadline) {
                chunk.forEach(d -> series.get(d.door()).notRun(1));
                continue;
            }
            long begin = recorder.now();
            try {
                fleet.revokeDevices(chunk.stream().map(Device::id).toList(), REVOCATION_REASON, "simulator storm");
                chunk.forEach(d -> series.get(d.door()).succeeded(begin));
            } catch (FleetApiClient.FleetApiException e) {
                chunk.forEach(d -> series.get(d.door()).refused("HTTP_" + e.status(), EnrollStorm.sample(e)));
            } catch (IOException e) {
                chunk.forEach(d -> series.get(d.door()).failed(EnrollStorm.failureKind(e), EnrollStorm.sample(e)));
            }
        }
    }

    /** count devices spread evenly over the list, so every door and stretch of the fleet is sampled. */
    private static List<Device> evenlySpread(List<Device> devices, int count) {
        List<Device> chosen = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            chosen.add(devices.get((int) ((long) j * devices.size() / count)));
        }
        return chosen;
    }

    /** count devices, each door's share of them spread evenly over that door's devices, door after door. */
    private static List<Device> spreadOverDoors(List<Device> devices, int count) {
        Map<Door, List<Device>> byDoor = new EnumMap<>(Door.class);
        devices.forEach(d -> byDoor.computeIfAbsent(d.door(), k -> new ArrayList<>()).add(d));
        List<Device> chosen = new ArrayList<>(count);
        int left = count;
        int doorsLeft = byDoor.size();
        for (List<Device> ofDoor : byDoor.values()) {
            int take = doorsLeft == 1 ? left : Math.min(ofDoor.size(), Math.round((float) count * ofDoor.size() / devices.size()));
            take = Math.min(take, Math.min(left, ofDoor.size()));
            chosen.addAll(evenlySpread(ofDoor, take));
            left -= take;
            doorsLeft--;
        }
        return chosen;
    }

    /**
     * The agent's enroller for one operation. A statement goes into the CSR when the device needs
     * one: signed by its IDevID on first boot, or by its current key on a renewal through an
     * external broker (which cannot show the server the device's TLS certificate).
     */
    private DeviceEnroller enroller(Transport transport, Device device, boolean firstBoot) {
        Optional<FactoryIdentity> factory = firstBoot ? Optional.ofNullable(device.factory()) : Optional.empty();
        boolean statement = firstBoot ? factory.isPresent() : externalBroker && device.door() == Door.MQTT;
        List<CsrAttributeSource> sources = statement
                ? List.of(new AttestationSource(factory, Optional.empty(), Clock.systemUTC())) : List.of();
        return new DeviceEnroller(transport.est(), settings.anchors(), device.store(), sources);
    }

    /** The agent's client for one operation of one device, closed afterwards unless it is the shared one. */
    private record Transport(EstTransport est, boolean shared) implements AutoCloseable {
        @Override
        public void close() {
            if (!shared) {
                est.close();
            }
        }
    }

    private Transport transport(Device device, DeviceIdentity identity) throws IOException {
        URI uri = settings.doors().of(device.door()).orElseThrow();
        return switch (device.door()) {
            case HTTPS -> identity == null ? new Transport(sharedHttps, true) : new Transport(new EstHttpsClient(uri,
                    AgentTls.trusting(settings.anchors(), () -> identity), HTTPS_TIMEOUTS), false);
            case COAP -> new Transport(new EstCoapsClient(coapPath, settings.anchors(), identity, REQUEST_TIMEOUT), false);
            case MQTT -> new Transport(new EstMqttClient(identity != null && settings.doors().mqttCertified() != null
                    ? settings.doors().mqttCertified() : uri, device.id(), settings.anchors(), identity, REQUEST_TIMEOUT), false);
        };
    }
}
