package io.fleetkey.simulator;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.fleetkey.agent.DeviceKeyType;
import io.fleetkey.agent.KeyFiles;
import io.fleetkey.simulator.report.RunRecorder;
import io.fleetkey.simulator.report.RunReport;
import org.HdrHistogram.Histogram;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The crypto-only yardstick measured beside a run, on the same machine: the public-key work one
 * enrollment cannot avoid on the server (verify the CSR's ECDSA P-256 signature, sign the
 * certificate), with Bouncy Castle as the server uses it, on one thread per core and nothing else.
 * A storm's enrollments per second read best as a share of this rate.
 */
final class CryptoBaseline {
    static final String NAME = "sign+verify P-256";

    private CryptoBaseline() {
    }

    /** Runs for {@code duration} (after a warm-up of half as long) on {@code threads} threads. */
    static RunReport.Baseline measure(Duration duration, int threads) throws InterruptedException {
        BouncyCastleProvider provider = new BouncyCastleProvider();
        KeyPair ca = KeyFiles.generateKeyPair(DeviceKeyType.P256);
        KeyPair device = KeyFiles.generateKeyPair(DeviceKeyType.P256);
        byte[] csrInfo = new byte[250];
        byte[] tbsCertificate = new byte[450];
        ThreadLocalRandom.current().nextBytes(csrInfo);
        ThreadLocalRandom.current().nextBytes(tbsCertificate);
        byte[] csrSignature;
        try {
            Signature s = Signature.getInstance("SHA256withECDSA", provider);
            s.initSign(device.getPrivate());
            s.update(csrInfo);
            csrSignature = s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no ECDSA P-256 in Bouncy Castle", e);
        }
        long warmUpEnd = System.nanoTime() + duration.toNanos() / 2;
        long end = warmUpEnd + duration.toNanos();
        List<Histogram> histograms = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        long[] counts = new long[threads];
        for (int t = 0; t < threads; t++) {
            Histogram histogram = new Histogram(RunRecorder.HIGHEST_MICROS, RunRecorder.SIGNIFICANT_DIGITS);
            histograms.add(histogram);
            int index = t;
            Thread worker = new Thread(() -> {
                try {
                    Signature verifier = Signature.getInstance("SHA256withECDSA", provider);
                    Signature signer = Signature.getInstance("SHA256withECDSA", provider);
                    signer.initSign(ca.getPrivate());
                    while (true) {
                        long begin = System.nanoTime();
                        if (begin > end) {
                            return;
                        }
                        verifier.initVerify(device.getPublic());
                        verifier.update(csrInfo);
                        if (!verifier.verify(csrSignature)) {
                            throw new IllegalStateException("the baseline's own signature did not verify");
                        }
                        signer.update(tbsCertificate);
                        signer.sign();
                        long done = System.nanoTime();
                        if (begin >= warmUpEnd) {
                            counts[index]++;
                            histogram.recordValue(Math.min(RunRecorder.HIGHEST_MICROS,
                                    Math.max(1, TimeUnit.NANOSECONDS.toMicros(done - begin))));
                        }
                    }
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }, "crypto-baseline-" + t);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        Histogram all = new Histogram(RunRecorder.HIGHEST_MICROS, RunRecorder.SIGNIFICANT_DIGITS);
        histograms.forEach(all::add);
        long operations = 0;
        for (long c : counts) {
            operations += c;
        }
        return new RunReport.Baseline(NAME, "verify a CSR's ECDSA P-256 signature and sign a certificate, "
                + "Bouncy Castle, nothing else", operations, duration.toNanos() / 1e9, threads, RunReport.Latency.of(all));
    }
}
