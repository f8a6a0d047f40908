package io.fleetkey.server.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * OCSP responses per second over real HTTPS (docs/benchmarks.md, "OCSP responder"): N clients,
 * each on its own keep-alive TLS connection, POST OCSP requests for one enrolled certificate after
 * another in a closed loop, with a nonce (every response signed) and without (served from the
 * response cache). Beside it, in the same run and JVM, the raw Bouncy Castle ECDSA P-256 sign rate
 * with one and two threads, the yardstick for the signed case.
 *
 * <p>The clients are plain {@link SSLSocket}s speaking just enough HTTP/1.1 (Content-Length
 * framing), so the load generator costs as little CPU as it can on the cores it shares with the
 * server. Every answer's HTTP status and OCSP status are checked; one in 64 is parsed and its
 * nonce compared. CPU per thread group is read with {@link CpuMeter}.
 *
 * <p>Options as {@code --name value}: clients (4,16,64), seconds (8 per window), warmup (4 s per
 * window, after unreported rounds until the JIT is quiet), certificates (200 enrolled devices),
 * crypto-seconds (4), nonce (yes, no or both).
 */
public final class OcspLoadBenchmark {
    private static final String GROUP = "bench-ocsp";

    private final Map<String, String> options;
    private final CpuMeter cpu = new CpuMeter();
    private TestServer server;
    private SSLContext tls;
    private byte[][] plainRequests;
    private byte[][] nonceRequests;
    private int[] nonceOffsets;

    private OcspLoadBenchmark(Map<String, String> options) {
        this.options = options;
    }

    public static void main(String[] args) {
        Map<String, String> options = new LinkedHashMap<>(Map.of("clients", "4,16,64", "seconds", "8", "warmup", "4",
                "certificates", "200", "crypto-seconds", "4", "nonce", "both"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int status = 0;
        try {
            new OcspLoadBenchmark(options).run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status); // Micronaut leaves non-daemon threads behind
    }

    private void run() throws Exception {
        System.out.println(CpuMeter.machineLine() + "  options " + options);
        server = TestServer.start();
        setUp();
        System.out.printf("%d certificates enrolled over EST; responder at %s%n", plainRequests.length,
                server.uri("/ocsp"));
        List<String> rows = new ArrayList<>();
        String signBefore = rawSign();
        List<Boolean> kinds = switch (options.get("nonce")) {
            case "yes" -> List.of(true);
            case "no" -> List.of(false);
            default -> List.of(true, false);
        };
        for (boolean nonce : kinds) {
            warmUpUntilJitQuiet(nonce);
        }
        for (boolean nonce : kinds) {
            for (String n : options.get("clients").split(",")) {
                rows.add(load(Integer.parseInt(n.trim()), nonce, Integer.parseInt(options.get("warmup")),
                        Integer.parseInt(options.get("seconds"))));
            }
        }
        String signAfter = rawSign();
        System.out.println();
        System.out.println("raw ECDSA P-256 sign (BC), start: " + signBefore);
        System.out.println("raw ECDSA P-256 sign (BC), end:   " + signAfter);
        System.out.println("| nonce | N | responses/s | p50 ms | p99 ms | JVM cores | clients' cores | server CPU µs/resp "
                + "| other processes' cores | top server threads (cores) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println(CpuMeter.machineLine());
        server.close();
    }

    private void setUp() throws Exception {
        server.createGroup(GROUP, "device");
        int count = Integer.parseInt(options.get("certificates"));
        X509CertificateHolder issuer = new X509CertificateHolder(server.caChain().get(0).getEncoded());
        var sha1 = new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1);
        plainRequests = new byte[count][];
        nonceRequests = new byte[count][];
        nonceOffsets = new int[count];
        byte[] marker = new byte[16];
        Arrays.fill(marker, (byte) 0x5a);
        for (int i = 0; i < count; i++) {
            String id = String.format("ocsp-%05d", i);
            String token = server.registerDevice(id, GROUP);
            X509Certificate cert = TestServer.issuedCertificate(server.est(server.client(), "simpleenroll",
                    TestPki.csr(id, TestPki.p256()), id, token));
            CertificateID certId = new CertificateID(sha1, issuer, cert.getSerialNumber());
            plainRequests[i] = new OCSPReqBuilder().addRequest(certId).build().getEncoded();
            // The nonce request is built once with a marker; each send overwrites the marker with random bytes.
            nonceRequests[i] = new OCSPReqBuilder().addRequest(certId).setRequestExtensions(new Extensions(
                    new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false,
                            new DEROctetString(new DEROctetString(marker).getEncoded())))).build().getEncoded();
            nonceOffsets[i] = indexOf(nonceRequests[i], marker);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", server.caChain().get(server.caChain().size() - 1));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
    }

    /**
     * Unmeasured load until the JIT has compiled what this path runs: C2 works on the server's
     * code for a minute or more, and while it does it takes a third of a core from the rows.
     * Quiet means under 10% of one core spent compiling over a 5 s window; at most 180 s.
     */
    private void warmUpUntilJitQuiet(boolean nonce) throws Exception {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            long before = jit.getTotalCompilationTime();
            load(8, nonce, 5, 0);
            long compiling = jit.getTotalCompilationTime() - before;
            System.out.printf("  warm-up (%s): the JIT compiled for %d ms of the last 5 s%n", nonce ? "nonce" : "no nonce",
                    compiling);
            if (compiling < 500 || System.nanoTime() > deadline) {
                return;
            }
        }
    }

    /** One window: N clients for warmup + measure seconds; returns a table row (null row for a warm-up). */
    private String load(int n, boolean nonce, int warmupSeconds, int measureSeconds) throws Exception {
        System.out.printf("%s  N = %d, %s: %d s warm-up, %d s measured, load average %s%n", LocalDateTime.now()
                .withNano(0), n, nonce ? "nonce" : "no nonce", warmupSeconds, measureSeconds, CpuMeter.loadAverage());
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder responses = new LongAdder();
        LongAdder failures = new LongAdder();
        List<long[]> latencies = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            long[] mine = new long[200_000]; // latencies of the first 200,000 answers per client
            latencies.add(mine);
            int first = c;
            Thread t = new Thread(() -> client(first, n, nonce, measuring, stop, responses, failures, mine),
                    "bench-client-" + c);
            t.setDaemon(true);
            clients.add(t);
            t.start();
        }
        Thread.sleep(warmupSeconds * 1000L);
        CpuMeter.Snapshot before = cpu.snapshot();
        measuring.set(true);
        long t0 = System.nanoTime();
        Thread.sleep(measureSeconds * 1000L);
        measuring.set(false);
        long elapsed = System.nanoTime() - t0;
        CpuMeter.Snapshot after = cpu.snapshot();
        stop.set(true);
        for (Thread t : clients) {
            t.join(10_000);
        }
        if (measureSeconds == 0) {
            return null;
        }
        long count = responses.sum();
        double rate = count / (elapsed / 1e9);
        long[] all = latencies.stream().flatMapToLong(a -> Arrays.stream(a).filter(v -> v > 0)).sorted().toArray();
        CpuMeter.Usage usage = cpu.usage(before, after);
        double serverCores = usage.processCores() - usage.clientCores();
        StringBuilder top = new StringBuilder();
        usage.groups().entrySet().stream().filter(e -> !e.getKey().startsWith("bench-client")).limit(4)
                .forEach(e -> top.append(String.format(Locale.ROOT, "%s %.2f; ", e.getKey(), e.getValue())));
        String row = String.format(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f | %s |",
                nonce ? "yes" : "no", n, rate, percentile(all, 0.50), percentile(all, 0.99), usage.processCores(),
                usage.clientCores(), serverCores * 1e6 / rate, usage.otherCores(), top);
        System.out.println("  " + row + (failures.sum() > 0 ? "  FAILURES: " + failures.sum() : ""));
        if (failures.sum() > 0) {
            throw new IllegalStateException(failures.sum() + " responses were not successful OCSP responses");
        }
        return row;
    }

    private void client(int first, int stride, boolean nonce, AtomicBoolean measuring, AtomicBoolean stop,
                        LongAdder responses, LongAdder failures, long[] latencies) {
        try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", server.port())) {
            socket.setTcpNoDelay(true);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
            int i = first;
            int recorded = 0;
            long sent = 0;
            while (!stop.get()) {
                int index = i % plainRequests.length;
                i += stride;
                byte[] body;
                byte[] nonceBytes = null;
                if (nonce) {
                    body = nonceRequests[index].clone();
                    nonceBytes = new byte[16];
                    ThreadLocalRandom.current().nextBytes(nonceBytes);
                    System.arraycopy(nonceBytes, 0, body, nonceOffsets[index], 16);
                } else {
                    body = plainRequests[index];
                }
                long start = System.nanoTime();
                out.write(("POST /ocsp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                byte[] answer = readResponse(in);
                long took = System.nanoTime() - start;
                // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), ... }
                boolean ok = answer != null && answer.length > 10 && answer[answer[1] == (byte) 0x82 ? 4 : 3] == 0x0a
                        && answer[answer[1] == (byte) 0x82 ? 6 : 5] == 0;
                if (ok && nonce && (sent++ & 63) == 0) {
                    ok = nonceOf(answer, nonceBytes);
                }
                if (measuring.get()) {
                    if (ok) {
                        responses.increment();
                        if (recorded < latencies.length) {
                            latencies[recorded++] = took;
                        }
                    } else {
                        failures.increment();
                    }
                }
            }
        } catch (IOException e) {
            if (!stop.get()) {
                failures.increment();
                System.err.println("client " + first + ": " + e);
            }
        }
    }

    /** Reads one HTTP/1.1 response framed by Content-Length; null unless it is 200. */
    private static byte[] readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int last4 = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed");
            }
            head.append((char) b);
            last4 = (last4 << 8) | b;
            if (last4 == 0x0d0a0d0a) {
                break;
            }
        }
        String headers = head.toString();
        int length = -1;
        for (String line : headers.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (length < 0) {
            throw new IOException("no Content-Length in " + headers);
        }
        byte[] body = in.readNBytes(length);
        return headers.startsWith("HTTP/1.1 200") ? body : null;
    }

    private static boolean nonceOf(byte[] answer, byte[] nonce) {
        try {
            BasicOCSPResp basic = (BasicOCSPResp) new OCSPResp(answer).getResponseObject();
            byte[] echoed = DEROctetString.getInstance(basic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                    .getParsedValue()).getOctets();
            return Arrays.equals(echoed, nonce);
        } catch (Exception e) {
            return false;
        }
    }

    /** BC's SHA256withECDSA P-256 signatures per second over a response-sized message, with 1 and 2 threads. */
    private String rawSign() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", CryptoProvider.bouncyCastle());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        byte[] message = new byte[250];
        ThreadLocalRandom.current().nextBytes(message);
        long seconds = Long.parseLong(options.get("crypto-seconds"));
        StringBuilder out = new StringBuilder();
        for (int threads : new int[]{1, 2}) {
            LongAdder ops = new LongAdder();
            AtomicBoolean counting = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> {
                    try {
                        Signature s = Signature.getInstance("SHA256withECDSA", CryptoProvider.bouncyCastle());
                        s.initSign(keys.getPrivate());
                        while (!stop.get()) {
                            s.update(message);
                            s.sign();
                            if (counting.get()) {
                                ops.increment();
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                workers.add(w);
                w.start();
            }
            Thread.sleep(2000);
            counting.set(true);
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000);
            counting.set(false);
            double rate = ops.sum() / ((System.nanoTime() - t0) / 1e9);
            stop.set(true);
            for (Thread w : workers) {
                w.join();
            }
            out.append(String.format(Locale.ROOT, "%d thread(s) %,.0f/s; ", threads, rate));
        }
        return out.append("load average ").append(CpuMeter.loadAverage()).toString();
    }

    private static double percentile(long[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, sorted.length * p)] / 1e6;
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("nonce marker not found");
    }

}
