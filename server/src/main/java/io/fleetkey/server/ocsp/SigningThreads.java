package io.fleetkey.server.ocsp;

import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The threads that sign OCSP responses: one per core, since a signature is pure CPU and more
 * threads would only take turns, behind a bounded queue, so an overload is told tryLater at once
 * instead of waiting ever longer. Keeps Netty's event loops free for TLS and cached answers.
 */
public final class SigningThreads implements AutoCloseable {
    private final ThreadPoolExecutor executor;

    /** @param maxQueued requests that may wait for a thread before {@link #submit} refuses more */
    public SigningThreads(int threads, int maxQueued) {
        AtomicInteger number = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(maxQueued), task -> {
                    Thread thread = new Thread(task, "ocsp-signer-" + number.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** The work's result to come, or empty when the queue is full. */
    public <T> Optional<CompletableFuture<T>> submit(Supplier<T> work) {
        try {
            return Optional.of(CompletableFuture.supplyAsync(work, executor));
        } catch (RejectedExecutionException e) {
            return Optional.empty();
        }
    }

    /** Requests waiting for a thread now. */
    public int queued() {
        return executor.getQueue().size();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
