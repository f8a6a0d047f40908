package io.fleetkey.server.bench;

import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.cert.CertPath;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

import javax.security.auth.x500.X500Principal;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.DtlsEndpointContext;
import org.eclipse.californium.elements.MapBasedEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.util.Bytes;
import org.eclipse.californium.elements.util.DaemonThreadFactory;
import org.eclipse.californium.elements.util.ExecutorsUtil;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.DtlsHealth;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.AlertMessage;
import org.eclipse.californium.scandium.dtls.CertificateIdentityResult;
import org.eclipse.californium.scandium.dtls.CertificateMessage;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.CertificateVerificationResult;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite.CertificateKeyAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.XECDHECryptography.SupportedGroup;
import org.eclipse.californium.scandium.dtls.x509.CertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.NewAdvancedCertificateVerifier;
import org.eclipse.californium.scandium.util.ServerNames;

/**
 * The load generator of {@link CoapsEnrollmentBenchmark}: N DTLS clients in a closed loop. Each
 * client has its own Scandium connector (its own UDP port) and CoAP endpoint, and sends one
 * POST /.well-known/est/sen (Content-Format 286) at a time. Every request carries the handshake
 * mode {@code full}, so Scandium throws the client's session away and runs a full handshake
 * (no resumption) before the request goes out: one request = one full handshake.
 *
 * <p>The client's own crypto is kept to what a handshake needs: the server's certificate is
 * pinned (compared with the expected leaf, no path validation; Scandium still verifies the
 * ServerKeyExchange signature with its key), CSRs and client keys are made before the phase.
 */
final class DtlsLoad {
    static final String SEN_PATH = ".well-known/est/sen";

    private DtlsLoad() {
    }

    /**
     * What one enrollment sends: the DER CSR, and for a factory identity the client key and
     * certificate chain of the handshake (null for token devices, which present no certificate).
     */
    record Device(String id, byte[] csr, PrivateKey clientKey, List<X509Certificate> clientChain) {
    }

    /** Hands out devices; null when there are no more. Thread-safe. */
    interface DeviceSource {
        Device next();
    }

    /**
     * @param clients        concurrent clients (one request in flight each)
     * @param warmUp         run before the measured window; nothing in it counts
     * @param measure        the measured window
     * @param requestTimeout a request without an answer after this counts as a failure
     * @param clientThreads  threads of the clients' shared DTLS executor (handshake crypto, timers)
     * @param progressEvery  a progress line this often
     */
    record Settings(int clients, Duration warmUp, Duration measure, Duration requestTimeout, int clientThreads,
                    Duration progressEvery) {
    }

    /** One phase's numbers, all for the measured window. */
    record Result(String label, int clients, double seconds, long ok, Map<String, Long> failures, double[] latencyMs,
                  long handshakesOk, long handshakesFailed, long serverChecks, long distinctSessions,
                  boolean exhausted, CpuMeter.Usage cpu) {
        double rate() {
            return ok / seconds;
        }

        /**
         * CPU milliseconds this JVM spent per successful request, apart from the load generator's
         * threads: the server's cost of one request (GC and JIT included).
         */
        double serverCpuMsPerOk() {
            return ok == 0 ? Double.NaN : (cpu.processCores() - cpu.clientCores()) * cpu.seconds() * 1e3 / ok;
        }

        /** The same for the load generator's threads. */
        double clientCpuMsPerOk() {
            return ok == 0 ? Double.NaN : cpu.clientCores() * cpu.seconds() * 1e3 / ok;
        }

        long failed() {
            return failures.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Several slices of the same kind as one result: counts and times added, CPU figures time-weighted. */
        static Result merge(String label, List<Result> slices) {
            double seconds = 0;
            long ok = 0;
            long hsOk = 0;
            long hsFailed = 0;
            long checks = 0;
            long sessions = 0;
            boolean exhausted = false;
            Map<String, Long> failures = new TreeMap<>();
            List<CpuMeter.Usage> usages = new ArrayList<>();
            int latencies = 0;
            for (Result r : slices) {
                latencies += r.latencyMs().length;
            }
            double[] ms = new double[latencies];
            int k = 0;
            for (Result r : slices) {
                seconds += r.seconds();
                ok += r.ok();
                hsOk += r.handshakesOk();
                hsFailed += r.handshakesFailed();
                checks += r.serverChecks();
                sessions += r.distinctSessions();
                exhausted |= r.exhausted();
                r.failures().forEach((key, v) -> failures.merge(key, v, Long::sum));
                usages.add(r.cpu());
                System.arraycopy(r.latencyMs(), 0, ms, k, r.latencyMs().length);
                k += r.latencyMs().length;
            }
            Arrays.sort(ms);
            return new Result(label, slices.get(0).clients(), seconds, ok, failures, ms, hsOk, hsFailed, checks, sessions,
                    exhausted, CpuMeter.Usage.merge(usages));
        }

        /** p-quantile (0..1) of the successful requests' latency in ms; NaN when none. */
        double percentile(double p) {
            if (latencyMs.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(p * latencyMs.length) - 1;
            return latencyMs[Math.max(0, Math.min(latencyMs.length - 1, i))];
        }
    }

    /**
     * Runs one phase: {@code settings.clients()} clients against {@code server}, warm-up then the
     * measured window. {@code check} looks at successful responses (2.04); returning false makes
     * the response count as a failure ("2.04 with a bad body").
     */
    static Result run(String label, InetSocketAddress server, X509Certificate serverLeaf, boolean clientCertificates,
                      DeviceSource devices, Settings settings, Configuration coap, CpuMeter cpu,
                      Predicate<Answer> check) throws InterruptedException {
        Counters counters = new Counters();
        ScheduledExecutorService dtlsExecutor = ExecutorsUtil.newScheduledThreadPool(settings.clientThreads(),
                new DaemonThreadFactory("bench-client-dtls#"));
        ScheduledExecutorService coapExecutor = ExecutorsUtil.newScheduledThreadPool(1,
                new DaemonThreadFactory("bench-client-coap#"));
        List<Client> clients = new ArrayList<>();
        Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
        try {
            for (int i = 0; i < settings.clients(); i++) {
                Client c = new Client(coap, serverLeaf, clientCertificates, counters, dtlsExecutor, coapExecutor);
                clients.add(c);
                clientPorts.add(c.port());
            }
            cpu.setClientPorts(clientPorts);
            return closedLoop(label, server, devices, settings, clients, counters, cpu, check);
        } finally {
            for (Client c : clients) {
                c.close();
            }
            dtlsExecutor.shutdownNow();
            coapExecutor.shutdownNow();
            dtlsExecutor.awaitTermination(5, TimeUnit.SECONDS);
            coapExecutor.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** A successful response, for the phase's check. */
    record Answer(Device device, Response response) {
    }

    private static Result closedLoop(String label, InetSocketAddress server, DeviceSource devices, Settings settings,
                                     List<Client> clients, Counters counters, CpuMeter cpu, Predicate<Answer> check)
            throws InterruptedException {
        long start = System.nanoTime();
        long windowStart = start + settings.warmUp().toNanos();
        long windowEnd = windowStart + settings.measure().toNanos();
        java.time.LocalTime wall = java.time.LocalTime.now().withNano(0);
        System.out.printf("  [%s] %d clients, warm-up from %s, measured %s to %s%n", label, clients.size(), wall,
                wall.plus(settings.warmUp()), wall.plus(settings.warmUp()).plus(settings.measure()));
        AtomicBoolean exhausted = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, LongAdder> failures = new ConcurrentHashMap<>();
        Set<String> sessions = ConcurrentHashMap.newKeySet();
        LongAdder done = new LongAdder(); // all completions, warm-up included, for the progress line
        LongAdder failedAll = new LongAdder();
        long[][] latencies = new long[clients.size()][];
        int[] latencyCounts = new int[clients.size()];
        AtomicLong lastCompletion = new AtomicLong(windowStart);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < clients.size(); t++) {
            int index = t;
            Client client = clients.get(t);
            Thread thread = new Thread(() -> {
                long[] mine = new long[1024];
                int count = 0;
                while (!stop.get()) {
                    Device device = devices.next();
                    if (device == null) {
                        exhausted.set(true);
                        break;
                    }
                    long sent = System.nanoTime();
                    if (sent >= windowEnd) {
                        break;
                    }
                    Outcome outcome = client.send(server, device, settings.requestTimeout());
                    long received = System.nanoTime();
                    String failure = outcome.failure();
                    if (failure == null && !check.test(new Answer(device, outcome.response()))) {
                        failure = "2.04 with an unexpected body";
                    }
                    done.increment();
                    if (failure != null) {
                        failedAll.increment();
                    }
                    boolean counted = received >= windowStart && received < windowEnd;
                    if (!counted) {
                        continue;
                    }
                    lastCompletion.accumulateAndGet(received, Math::max);
                    if (failure != null) {
                        failures.computeIfAbsent(failure, k -> new LongAdder()).increment();
                        continue;
                    }
                    if (outcome.sessionId() != null) {
                        sessions.add(outcome.sessionId());
                    }
                    if (count == mine.length) {
                        mine = Arrays.copyOf(mine, count * 2);
                    }
                    mine[count++] = received - sent;
                }
                latencies[index] = mine;
                latencyCounts[index] = count;
            }, "bench-client-loop-" + t);
            thread.setDaemon(true);
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.start();
        }

        // The coordinator: progress lines, and CPU and handshake counters at both ends of the window.
        CpuMeter.Snapshot cpuStart = null;
        long[] countersStart = null;
        long nextProgress = start + settings.progressEvery().toNanos();
        long lastDone = 0;
        long lastProgressAt = start;
        while (true) {
            long now = System.nanoTime();
            if (cpuStart == null && now >= windowStart) {
                cpuStart = cpu.snapshot();
                countersStart = counters.values();
            }
            if (now >= windowEnd || threads.stream().noneMatch(Thread::isAlive)) {
                break;
            }
            if (now >= nextProgress) {
                long d = done.sum();
                System.out.printf("  [%s] %5.1f s %s: %d done (%.0f/s in the last %.0f s), %d failed%n", label,
                        (now - start) / 1e9, now < windowStart ? "warm-up " : "measured", d,
                        (d - lastDone) / ((now - lastProgressAt) / 1e9), (now - lastProgressAt) / 1e9,
                        failedAll.sum());
                lastDone = d;
                lastProgressAt = now;
                nextProgress += settings.progressEvery().toNanos();
            }
            long wake = Math.min(nextProgress, cpuStart == null ? windowStart : windowEnd);
            long sleepMs = Math.max(1, (wake - now) / 1_000_000);
            Thread.sleep(Math.min(sleepMs, 100));
        }
        if (cpuStart == null) { // every client stopped before the window (pool exhausted)
            cpuStart = cpu.snapshot();
            countersStart = counters.values();
        }
        CpuMeter.Snapshot cpuEnd = cpu.snapshot();
        long[] countersEnd = counters.values();
        long endedAt = Math.min(System.nanoTime(), windowEnd);
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(settings.requestTimeout().toMillis() + 5_000);
        }
        // If the pool ran dry inside the window, the rate is taken over the part that had work.
        double seconds = exhausted.get()
                ? Math.max(1e-3, (Math.min(lastCompletion.get(), endedAt) - windowStart) / 1e9)
                : settings.measure().toNanos() / 1e9;
        int total = 0;
        for (int c : latencyCounts) {
            total += c;
        }
        double[] ms = new double[total];
        int k = 0;
        for (int t = 0; t < latencies.length; t++) {
            for (int i = 0; i < latencyCounts[t]; i++) {
                ms[k++] = latencies[t][i] / 1e6;
            }
        }
        Arrays.sort(ms);
        Map<String, Long> failed = new TreeMap<>();
        failures.forEach((key, v) -> failed.put(key, v.sum()));
        return new Result(label, clients.size(), seconds, total, failed, ms,
                countersEnd[0] - countersStart[0], countersEnd[1] - countersStart[1],
                countersEnd[2] - countersStart[2], sessions.size(), exhausted.get(), cpu.usage(cpuStart, cpuEnd));
    }

    /** What one request came to: a 2.04 response (failure null) or why not. */
    private record Outcome(Response response, String sessionId, String failure) {
    }

    /** Handshakes and server-certificate checks of all clients of a phase. */
    private static final class Counters implements DtlsHealth {
        final LongAdder handshakesOk = new LongAdder();
        final LongAdder handshakesFailed = new LongAdder();
        /** The pinned-server verifier runs once per full handshake; a resumption would skip it. */
        final LongAdder serverChecks = new LongAdder();

        long[] values() {
            return new long[]{handshakesOk.sum(), handshakesFailed.sum(), serverChecks.sum()};
        }

        @Override
        public void dump(String tag, int maxConnections, int remainingCapacity, int pendingWithoutVerify) {
        }

        @Override
        public boolean isEnabled() {
            return true;
        }

        @Override
        public void startHandshake() {
        }

        @Override
        public void endHandshake(boolean success) {
            (success ? handshakesOk : handshakesFailed).increment();
        }

        @Override
        public void receivingRecord(boolean drop) {
        }

        @Override
        public void sendingRecord(boolean drop) {
        }
    }

    /** One simulated device slot: a DTLS client connector on its own port, and a CoAP endpoint on it. */
    private static final class Client {
        private final DTLSConnector connector;
        private final CoapEndpoint endpoint;
        private final DeviceIdentity identity;

        Client(Configuration coap, X509Certificate serverLeaf, boolean clientCertificates, Counters counters,
               ScheduledExecutorService dtlsExecutor, ScheduledExecutorService coapExecutor) {
            identity = clientCertificates ? new DeviceIdentity() : null;
            DtlsConnectorConfig.Builder b = DtlsConnectorConfig.builder(coap)
                    .setAddress(new InetSocketAddress("127.0.0.1", 0))
                    .set(DtlsConfig.DTLS_ROLE, DtlsRole.CLIENT_ONLY)
                    .set(DtlsConfig.DTLS_RECEIVER_THREAD_COUNT, 1)
                    .set(DtlsConfig.DTLS_MAX_CONNECTIONS, 64)
                    // RFC 9148's mandatory suite and curve, listed first, so ECDHE uses P-256; P-384 and
                    // SHA-384 are offered too, as general-purpose clients do (the issuing CA is signed by
                    // the P-384 root with SHA-384).
                    .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8)
                    .setAsList(DtlsConfig.DTLS_CURVES, SupportedGroup.secp256r1, SupportedGroup.secp384r1)
                    .setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA,
                            SignatureAndHashAlgorithm.SHA384_WITH_ECDSA)
                    .setAdvancedCertificateVerifier(new PinnedServer(serverLeaf, counters.serverChecks))
                    .setHealthHandler(counters);
            if (identity != null) {
                b.setCertificateIdentityProvider(identity);
            }
            connector = new DTLSConnector(b.build());
            connector.setExecutor(dtlsExecutor); // scheduled: it is the connector's timer too
            endpoint = new CoapEndpoint.Builder().setConfiguration(coap).setConnector(connector).build();
            endpoint.setExecutors(coapExecutor, coapExecutor);
            try {
                endpoint.start();
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot start a DTLS client", e);
            }
        }

        int port() {
            return connector.getAddress().getPort();
        }

        Outcome send(InetSocketAddress server, Device device, Duration timeout) {
            if (identity != null) {
                identity.device = device;
            }
            Request request = Request.newPost();
            request.getOptions().setUriPath(SEN_PATH).setContentFormat(MediaTypeRegistry.APPLICATION_PKCS10);
            request.setPayload(device.csr());
            // "full": drop any session with this server and run a full handshake before sending.
            request.setDestinationContext(new MapBasedEndpointContext(server, null,
                    DtlsEndpointContext.ATTRIBUE_HANDSHAKE_MODE_FORCE_FULL));
            endpoint.sendRequest(request);
            Response response;
            try {
                response = request.waitForResponse(timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                request.cancel();
                return new Outcome(null, null, "interrupted");
            }
            if (response == null) {
                String why = request.getSendError() != null
                        ? "send error: " + request.getSendError().getClass().getSimpleName() + " "
                        + request.getSendError().getMessage()
                        : request.isRejected() ? "rejected (RST)" : request.isTimedOut() ? "CoAP timeout"
                        : request.isCanceled() ? "canceled" : "no answer in " + timeout.toSeconds() + " s";
                request.cancel();
                return new Outcome(null, null, why);
            }
            if (response.getCode() != ResponseCode.CHANGED) {
                String text = response.getPayloadString();
                return new Outcome(response, null, response.getCode() + " "
                        + (text.length() > 80 ? text.substring(0, 80) : text));
            }
            Bytes session = response.getSourceContext().get(DtlsEndpointContext.KEY_SESSION_ID);
            return new Outcome(response, session == null ? null : HexFormat.of().formatHex(session.getBytes()), null);
        }

        void close() {
            endpoint.destroy();
        }
    }

    /** The client's certificate for the handshake: that of the device the client is enrolling right now. */
    private static final class DeviceIdentity implements CertificateProvider {
        volatile Device device;

        @Override
        public List<CertificateKeyAlgorithm> getSupportedCertificateKeyAlgorithms() {
            return List.of(CertificateKeyAlgorithm.EC);
        }

        @Override
        public List<CertificateType> getSupportedCertificateTypes() {
            return List.of(CertificateType.X_509);
        }

        @Override
        public CertificateIdentityResult requestCertificateIdentity(ConnectionId cid, boolean client,
                                                                    List<X500Principal> issuers, ServerNames serverNames,
                                                                    List<CertificateKeyAlgorithm> keyAlgorithms,
                                                                    List<SignatureAndHashAlgorithm> signatureAlgorithms,
                                                                    List<SupportedGroup> curves) {
            Device d = device;
            if (d == null || d.clientKey() == null) {
                return new CertificateIdentityResult(cid);
            }
            return new CertificateIdentityResult(cid, d.clientKey(), d.clientChain());
        }

        @Override
        public void setResultHandler(HandshakeResultHandler resultHandler) {
        }
    }

    /**
     * Accepts exactly the expected server certificate (compared byte for byte), as a device that
     * pins its server would. It runs once per full handshake, so it also counts them.
     */
    private static final class PinnedServer implements NewAdvancedCertificateVerifier {
        private final X509Certificate expected;
        private final LongAdder calls;

        PinnedServer(X509Certificate expected, LongAdder calls) {
            this.expected = expected;
            this.calls = calls;
        }

        @Override
        public List<CertificateType> getSupportedCertificateTypes() {
            return List.of(CertificateType.X_509);
        }

        @Override
        public CertificateVerificationResult verifyCertificate(ConnectionId cid, ServerNames serverName,
                                                               InetSocketAddress remotePeer, boolean clientUsage,
                                                               boolean verifySubject, boolean truncateCertificatePath,
                                                               CertificateMessage message) {
            calls.increment();
            CertPath path = message.getCertificateChain();
            if (path != null && !path.getCertificates().isEmpty() && expected.equals(path.getCertificates().get(0))) {
                return new CertificateVerificationResult(cid, path, null);
            }
            return new CertificateVerificationResult(cid, new HandshakeException("not the expected server certificate",
                    new AlertMessage(AlertMessage.AlertLevel.FATAL, AlertMessage.AlertDescription.BAD_CERTIFICATE)), null);
        }

        @Override
        public List<X500Principal> getAcceptedIssuers() {
            return List.of();
        }

        @Override
        public void setResultHandler(HandshakeResultHandler resultHandler) {
        }
    }
}
