package io.fleetkey.simulator.report;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** Runs recorded on a hand-driven clock, with numbers shaped like a real storm's. */
final class SampleRuns {
    static final String MARKUP_REASON = "<script>alert('x')</script>";
    static final String MARKUP_SAMPLE = "device \"<b>evil</b>\" & <img src=x onerror=alert(1)>";

    private SampleRuns() {
    }

    static RunRecorder recorder(AtomicLong nanos) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("devices", "6000");
        settings.put("doors", "HTTPS 40%, CoAP 25%, MQTT 35%");
        settings.put("ramp", "150 devices/s");
        return new RunRecorder("first-boot-storm", settings,
                Clock.fixed(Instant.parse("2026-11-27T15:00:00Z"), ZoneOffset.UTC), nanos::get);
    }

    /**
     * 40 seconds of a mixed storm: enrollments on three doors ramping up, renewals on HTTPS, an
     * MQTT broker restart from second 15 to 19 (MQTT fails meanwhile, then catches up), cut-off
     * checks at the end, some refusals (one with markup in its reason and sample) and a baseline.
     */
    static RunReport realistic() {
        AtomicLong nanos = new AtomicLong(5_000_000_000L);
        long start = nanos.get();
        RunRecorder run = recorder(nanos);
        Random random = new Random(42);
        RunRecorder.SeriesRecorder https = run.series(Door.HTTPS, Operation.ENROLL);
        RunRecorder.SeriesRecorder coap = run.series(Door.COAP, Operation.ENROLL);
        RunRecorder.SeriesRecorder mqtt = run.series(Door.MQTT, Operation.ENROLL);
        RunRecorder.SeriesRecorder renew = run.series(Door.HTTPS, Operation.RENEW);
        RunRecorder.SeriesRecorder cutOff = run.series(Door.MQTT, Operation.CUT_OFF);
        RunRecorder.FaultRecorder restart = null;
        for (int second = 0; second < 40; second++) {
            long secondStart = start + second * 1_000_000_000L;
            nanos.set(secondStart);
            if (second == 15) {
                restart = run.faultBegins("broker-restart", "the embedded MQTT broker stopped and started again");
            }
            if (second == 19) {
                restart.ends();
                restart.recovery(612, 3, "sessions reconnected and enrolled within 6 s");
            }
            double ramp = Math.min(1.0, (second + 1) / 8.0);
            boolean brokerDown = second >= 15 && second < 19;
            for (int i = 0; i < (int) (60 * ramp); i++) {
                operation(nanos, secondStart, random, https, 18, random.nextInt(200) == 0 ? "TOKEN_USED" : null);
            }
            for (int i = 0; i < (int) (35 * ramp); i++) {
                operation(nanos, secondStart, random, coap, 30, random.nextInt(300) == 0 ? MARKUP_REASON : null);
            }
            for (int i = 0; i < (int) (45 * ramp * (second >= 19 && second < 24 ? 2 : 1)); i++) {
                if (brokerDown) {
                    nanos.set(secondStart + random.nextInt(900_000_000));
                    mqtt.failed("IO:ConnectException", "Connection refused");
                } else {
                    operation(nanos, secondStart, random, mqtt, 24, null);
                }
            }
            if (second >= 20 && second < 32) {
                for (int i = 0; i < 20; i++) {
                    operation(nanos, secondStart, random, renew, 22, null);
                }
            }
            if (second >= 34) {
                for (int i = 0; i < 10; i++) {
                    operation(nanos, secondStart, random, cutOff, 40, null);
                }
            }
        }
        nanos.set(start + 39_600_000_000L);
        cutOff.failed("STILL_CONNECTED", "the device still published 5 s after its revocation");
        mqtt.notRun(7);
        run.baseline(new RunReport.Baseline("sign+verify P-256", "one ECDSA P-256 signature and one verification "
                + "with a fresh key, Bouncy Castle", 20_000, 4.1, 2, RunReport.Latency.of(baselineHistogram(random))));
        return run.finish();
    }

    private static void operation(AtomicLong nanos, long secondStart, Random random, RunRecorder.SeriesRecorder series,
                                  double medianMs, String refusal) {
        long begin = secondStart + random.nextInt(900_000_000);
        nanos.set(begin);
        double latencyMs = medianMs * Math.exp(random.nextGaussian() * 0.45);
        nanos.set(begin + (long) (latencyMs * 1_000_000));
        if (refusal == null) {
            series.succeeded(begin);
        } else {
            series.refused(refusal, refusal.startsWith("<") ? MARKUP_SAMPLE : "the enrollment token was already used");
        }
    }

    private static org.HdrHistogram.Histogram baselineHistogram(Random random) {
        org.HdrHistogram.Histogram micros = new org.HdrHistogram.Histogram(RunRecorder.HIGHEST_MICROS, 3);
        for (int i = 0; i < 20_000; i++) {
            micros.recordValue((long) (380 * Math.exp(random.nextGaussian() * 0.2)));
        }
        return micros;
    }
}
