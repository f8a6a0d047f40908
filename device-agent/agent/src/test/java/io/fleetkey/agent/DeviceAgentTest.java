package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import io.fleetkey.protocol.FailureCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The running agent with a renewal stand-in: when it renews, how it retries, when it stops. */
class DeviceAgentTest {
    private static final RenewalPolicy QUICK = new RenewalPolicy(2.0 / 3, Duration.ZERO, Duration.ofMillis(1),
            Duration.ofMillis(1));

    private final TestPki pki = new TestPki("Agent");

    @TempDir
    Path dir;

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

    private DeviceIdentity enrolled(IdentityDirectory directory) throws IOException {
        KeyPair keys = directory.pendingKeyPair();
        X509Certificate cert = pki.issueClient(keys.getPublic(), "pos-0001");
        return directory.commit(cert, pki.caCertificates());
    }

    /**
     * A renewal that issues a new certificate from the test CA, as the server would; time then
     * moves back to the present, where the new certificate is young.
     */
    private DeviceAgent.Renewal renewingIn(IdentityDirectory directory, AtomicInteger calls, TestClock clock) {
        return () -> {
            calls.incrementAndGet();
            KeyPair keys = directory.pendingKeyPair();
            DeviceIdentity renewed = directory.commit(pki.issueClient(keys.getPublic(), "pos-0001"), pki.caCertificates());
            clock.now.set(Instant.now());
            return renewed;
        };
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 15 s");
            }
            Thread.sleep(20);
        }
    }

    @Test
    void it_renews_when_the_share_of_the_lifetime_has_passed_and_the_same_context_presents_the_new_certificate()
            throws Exception {
        IdentityDirectory directory = new IdentityDirectory(dir);
        DeviceIdentity first = enrolled(directory);
        TestClock clock = new TestClock();
        clock.now.set(first.notAfter().minus(Duration.ofDays(10))); // past two thirds of 90 days
        AtomicInteger calls = new AtomicInteger();
        try (DeviceAgent agent = DeviceAgent.start(directory, pki.caCertificates(), renewingIn(directory, calls, clock), QUICK,
                clock, new Random(1))) {
            var context = agent.sslContext();
            await(() -> calls.get() == 1 && agent.status().state() == DeviceAgent.State.ENROLLED
                    && !agent.identity().orElseThrow().serialHex().equals(first.serialHex()));
            DeviceIdentity second = agent.identity().orElseThrow();
            assertThat(agent.sslContext()).isSameAs(context);
            String alias = agent.keyManager().chooseClientAlias(new String[]{"EC"}, null, null);
            assertThat(agent.keyManager().getCertificateChain(alias)[0]).isEqualTo(second.certificate());
            assertThat(agent.keyManager().getPrivateKey(alias)).isEqualTo(second.privateKey());
            assertThat(directory.load()).contains(second);
            // The next renewal is due at two thirds of the new certificate's lifetime.
            Instant due = agent.status().nextAttempt().orElseThrow();
            Instant notBefore = second.certificate().getNotBefore().toInstant();
            long lifetime = Duration.between(notBefore, second.notAfter()).toMillis();
            assertThat(due).isEqualTo(notBefore.plusMillis((long) (lifetime * (2.0 / 3))));
        }
    }

    @Test
    void a_failed_renewal_is_retried_with_backoff_until_it_succeeds() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(dir);
        DeviceIdentity first = enrolled(directory);
        TestClock clock = new TestClock();
        clock.now.set(first.notAfter().minus(Duration.ofDays(10)));
        AtomicInteger calls = new AtomicInteger();
        DeviceAgent.Renewal flaky = () -> {
            if (calls.incrementAndGet() <= 2) {
                throw new IOException("connection refused");
            }
            KeyPair keys = directory.pendingKeyPair();
            DeviceIdentity renewed = directory.commit(pki.issueClient(keys.getPublic(), "pos-0001"), pki.caCertificates());
            clock.now.set(Instant.now());
            return renewed;
        };
        try (DeviceAgent agent = DeviceAgent.start(directory, pki.caCertificates(), flaky, QUICK, clock, new Random(2))) {
            await(() -> calls.get() >= 1 && agent.status().state() == DeviceAgent.State.RETRYING);
            assertThat(agent.status().lastProblem()).hasValueSatisfying(p -> assertThat(p).contains("connection refused"));
            assertThat(agent.identity()).contains(first); // still presenting the working certificate
            await(() -> calls.get() == 3 && agent.status().state() == DeviceAgent.State.ENROLLED);
            assertThat(agent.identity().orElseThrow().serialHex()).isNotEqualTo(first.serialHex());
        }
    }

    @Test
    void a_revoked_device_stops_presenting_its_certificate_and_stops_trying() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(dir);
        DeviceIdentity first = enrolled(directory);
        TestClock clock = new TestClock();
        clock.now.set(first.notAfter().minus(Duration.ofDays(10)));
        AtomicInteger calls = new AtomicInteger();
        DeviceAgent.Renewal refused = () -> {
            calls.incrementAndGet();
            throw new EstException(403, FailureCode.DEVICE_REVOKED, "device 'pos-0001' is revoked and cannot enroll");
        };
        try (DeviceAgent agent = DeviceAgent.start(directory, pki.caCertificates(), refused, QUICK, clock, new Random(3))) {
            await(() -> agent.status().state() == DeviceAgent.State.REVOKED);
            assertThat(agent.identity()).isEmpty();
            assertThat(agent.keyManager().chooseClientAlias(new String[]{"EC"}, null, null)).isNull();
            Thread.sleep(1_500);
            assertThat(calls.get()).isEqualTo(1);
            agent.renewNow();
            Thread.sleep(300);
            assertThat(calls.get()).isEqualTo(1);
        }
    }

    @Test
    void a_certificate_that_ended_while_the_device_was_off_is_reported_not_renewed() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(dir);
        DeviceIdentity first = enrolled(directory);
        TestClock clock = new TestClock();
        clock.now.set(first.notAfter().plusSeconds(1));
        AtomicInteger calls = new AtomicInteger();
        try (DeviceAgent agent = DeviceAgent.start(directory, pki.caCertificates(), renewingIn(directory, calls, clock), QUICK,
                clock, new Random(4))) {
            assertThat(agent.status().state()).isEqualTo(DeviceAgent.State.EXPIRED);
            Thread.sleep(300);
            assertThat(calls.get()).isZero();
        }
    }

    @Test
    void an_empty_directory_means_not_enrolled() throws Exception {
        try (DeviceAgent agent = DeviceAgent.start(new IdentityDirectory(dir), pki.caCertificates(), () -> {
            throw new AssertionError("no renewal without an identity");
        }, RenewalPolicy.DEFAULT)) {
            assertThat(agent.status().state()).isEqualTo(DeviceAgent.State.NOT_ENROLLED);
            assertThat(agent.identity()).isEmpty();
        }
    }

    @Test
    void the_policy_renews_at_the_share_plus_bounded_jitter_and_backs_off_exponentially() {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        Instant end = start.plus(Duration.ofDays(90));
        RenewalPolicy policy = RenewalPolicy.DEFAULT;
        Random random = new Random(5);
        for (int i = 0; i < 100; i++) {
            Instant at = policy.renewalTime(start, end, random);
            assertThat(at).isBetween(start.plus(Duration.ofDays(60)), start.plus(Duration.ofDays(60)).plus(Duration.ofHours(1)));
            assertThat(policy.backoff(1, random)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30));
            assertThat(policy.backoff(3, random)).isBetween(Duration.ofSeconds(1), Duration.ofMinutes(2));
            assertThat(policy.backoff(50, random)).isBetween(Duration.ofSeconds(1), Duration.ofHours(1));
        }
        // A short certificate gets at most a tenth of its lifetime as jitter.
        Instant shortEnd = start.plusSeconds(30);
        assertThat(policy.renewalTime(start, shortEnd, random)).isBetween(start.plusSeconds(20), start.plusSeconds(23));
    }
}
