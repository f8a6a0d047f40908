package io.fleetkey.server.ocsp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Work beyond the threads and the queue is refused at once, so the door can answer tryLater. */
class SigningThreadsTest {
    @Test
    void work_beyond_the_threads_and_the_queue_is_refused_at_once() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (SigningThreads threads = new SigningThreads(1, 2)) {
            Optional<CompletableFuture<String>> running = threads.submit(() -> {
                await(release);
                return "first";
            });
            Optional<CompletableFuture<String>> queued1 = threads.submit(() -> "second");
            Optional<CompletableFuture<String>> queued2 = threads.submit(() -> "third");
            Optional<CompletableFuture<String>> refused = threads.submit(() -> "fourth");

            assertThat(running).isPresent();
            assertThat(queued1).isPresent();
            assertThat(queued2).isPresent();
            assertThat(refused).isEmpty();
            assertThat(threads.queued()).isEqualTo(2);

            release.countDown();
            assertThat(running.get().get(5, TimeUnit.SECONDS)).isEqualTo("first");
            assertThat(queued2.get().get(5, TimeUnit.SECONDS)).isEqualTo("third");
            assertThat(threads.submit(() -> "again")).hasValueSatisfying(f -> assertThat(f.join()).isEqualTo("again"));
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
