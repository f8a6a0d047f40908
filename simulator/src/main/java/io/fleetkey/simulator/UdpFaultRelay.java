package io.fleetkey.simulator;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP relay on a loopback port in front of the CoAP door that loses and delays datagrams,
 * the way a poor cellular or mesh link does: each datagram, in either direction, is dropped
 * with probability {@code loss}, and the others are held for {@code delay} (plus up to a fifth
 * of it at random) before they go on. Each device's datagrams leave from a socket of their
 * own, so the server still sees one peer per device. One selector thread and one scheduler
 * thread serve all devices.
 */
final class UdpFaultRelay implements AutoCloseable {
    private static final int MAX_DATAGRAM = 65_535;

    private final InetSocketAddress target;
    private final double loss;
    private final long delayMicros;
    private final Selector selector;
    private final DatagramChannel front;
    /** Idle device sockets are closed after this: a device opens a new port for each operation. */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Map<SocketAddress, DatagramChannel> upstreams = new ConcurrentHashMap<>();
    private final Map<SocketAddress, Long> lastUsed = new ConcurrentHashMap<>();
    private final ScheduledExecutorService later;
    private final Thread loop;
    private final AtomicLong relayed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param target where the datagrams go, the CoAP door
     * @param loss   share of datagrams dropped in each direction, 0 to 1
     * @param delay  how long each datagram that gets through is held
     */
    UdpFaultRelay(InetSocketAddress target, double loss, Duration delay) throws IOException {
        if (!(loss >= 0 && loss < 1)) {
            throw new IllegalArgumentException("the loss must be at least 0% and under 100%");
        }
        this.target = target;
        this.loss = loss;
        this.delayMicros = delay.toNanos() / 1000;
        this.selector = Selector.open();
        this.front = DatagramChannel.open();
        front.bind(new InetSocketAddress(target.getAddress().isLoopbackAddress() ? target.getAddress()
                : java.net.InetAddress.getLoopbackAddress(), 0));
        front.configureBlocking(false);
        front.register(selector, SelectionKey.OP_READ);
        this.later = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "coap-fault-delay"));
        this.loop = daemon(this::run, "coap-fault-relay");
        loop.start();
    }

    /** Where the devices send their datagrams instead of the CoAP door. */
    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) front.getLocalAddress();
    }

    long relayed() {
        return relayed.get();
    }

    long dropped() {
        return dropped.get();
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
        long nextSweep = System.nanoTime() + IDLE_NANOS;
        try {
            while (!closed) {
                selector.select(500);
                if (System.nanoTime() > nextSweep) {
                    closeIdle();
                    nextSweep = System.nanoTime() + IDLE_NANOS / 4;
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    while (true) {
                        buffer.clear();
                        SocketAddress from = channel.receive(buffer);
                        if (from == null) {
                            break;
                        }
                        buffer.flip();
                        byte[] datagram = new byte[buffer.remaining()];
                        buffer.get(datagram);
                        if (channel == front) {
                            lastUsed.put(from, System.nanoTime());
                            forward(upstream(from), target, datagram);
                        } else {
                            forward(front, (SocketAddress) key.attachment(), datagram);
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            // closed, or the socket failed: the devices see a dead link, which is what this relay simulates anyway
        }
    }

    private void closeIdle() throws IOException {
        long now = System.nanoTime();
        for (Map.Entry<SocketAddress, Long> entry : lastUsed.entrySet()) {
            if (now - entry.getValue() > IDLE_NANOS) {
                lastUsed.remove(entry.getKey());
                DatagramChannel upstream = upstreams.remove(entry.getKey());
                if (upstream != null) {
                    upstream.close();
                }
            }
        }
    }

    /** The socket that carries one device's datagrams to the door, made at its first datagram. */
    private DatagramChannel upstream(SocketAddress device) throws IOException {
        DatagramChannel upstream = upstreams.get(device);
        if (upstream == null) {
            upstream = DatagramChannel.open();
            upstream.bind(new InetSocketAddress(target.getAddress(), 0));
            upstream.configureBlocking(false);
            upstream.register(selector, SelectionKey.OP_READ, device);
            upstreams.put(device, upstream);
        }
        return upstream;
    }

    private void forward(DatagramChannel channel, SocketAddress to, byte[] datagram) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (random.nextDouble() < loss) {
            dropped.incrementAndGet();
            return;
        }
        relayed.incrementAndGet();
        Runnable send = () -> {
            try {
                channel.send(ByteBuffer.wrap(datagram), to);
            } catch (IOException e) {
                dropped.incrementAndGet(); // the socket is gone; the datagram is lost like any other
            }
        };
        if (delayMicros == 0) {
            send.run();
        } else {
            later.schedule(send, delayMicros + random.nextLong(delayMicros / 5 + 1), TimeUnit.MICROSECONDS);
        }
    }

    @Override
    public void close() {
        closed = true;
        later.shutdownNow();
        try {
            selector.close();
            front.close();
            for (DatagramChannel upstream : upstreams.values()) {
                upstream.close();
            }
        } catch (IOException e) {
            // nothing left to do with a socket that will not close
        }
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }
}
