package io.fleetkey.server.transport.coap;

import static io.fleetkey.server.testing.CoapsTestClient.describe;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A device on a bad radio link: a relay between client and server loses a quarter of the
 * datagrams each way. DTLS retransmits handshake flights, CoAP retransmits confirmable blocks,
 * the server answers duplicates from its deduplication cache — and the device ends up with
 * exactly one certificate, not one per retransmitted last block.
 */
class EstCoapsLossyLinkIT {
    private static final double LOSS = 0.25;

    private static TestServer server;
    private static TestPki.Ca maker;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        maker = TestPki.ca("Lossy Link Maker CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "field", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void enrollment_over_a_link_losing_a_quarter_of_the_datagrams_completes_once() throws Exception {
        String id = "field-0001";
        server.registerDevice(id, "field");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, Duration.ofDays(3650));
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csr(id, keys);

        CoapResponse response;
        long started = System.nanoTime();
        try (LossyRelay relay = new LossyRelay(new InetSocketAddress("127.0.0.1", server.coapsPort()), LOSS, 9148);
             CoapsTestClient client = CoapsTestClient.to(server).via(relay.address())
                     .identity(idevidKeys, List.of(idevid, maker.certificate()))
                     .blocks(64) // Block1 and Block2 of 64 bytes: about 15 exchanges, each of which may be lost
                     .coap(c -> {
                         // Short, steady retransmission timers: it is a test link, not a congested network.
                         c.set(CoapConfig.ACK_TIMEOUT, 400, TimeUnit.MILLISECONDS);
                         c.set(CoapConfig.ACK_INIT_RANDOM, 1.0f);
                         c.set(CoapConfig.ACK_TIMEOUT_SCALE, 1.0f);
                         c.set(CoapConfig.MAX_RETRANSMIT, 12);
                     })
                     .dtls(d -> d.set(DtlsConfig.DTLS_RETRANSMISSION_TIMEOUT, 400, TimeUnit.MILLISECONDS)
                             .set(DtlsConfig.DTLS_RETRANSMISSION_TIMEOUT_SCALE, 1.0f)
                             .set(DtlsConfig.DTLS_MAX_RETRANSMISSIONS, 12)
                             // Keep resending a flight until the whole answer is in: a server flight
                             // spans several datagrams, and any of them may be lost.
                             .set(DtlsConfig.DTLS_USE_EARLY_STOP_RETRANSMISSION, false))
                     .timeout(Duration.ofSeconds(25))
                     .build()) {
            response = client.enroll("sen", csr, 281);

            System.out.printf("Lossy link: enrollment took %d ms; to server %s, to client %s%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), relay.upstream, relay.downstream);
            // The link really was lossy, both ways.
            assertThat(relay.upstream.dropped.get()).isPositive();
            assertThat(relay.downstream.dropped.get()).isPositive();
        }

        assertThat(response).as("no answer within the client's timeout").isNotNull();
        assertThat(response.getCode()).as(describe(response)).isEqualTo(ResponseCode.CHANGED);
        List<X509Certificate> certs = Certificates.fromPkcs7CertsOnly(response.getPayload());
        assertThat(certs).hasSize(1);
        X509Certificate cert = certs.get(0);
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        assertChainsToRoot(cert);

        JsonNode device = Json.parse(server.api("GET", "/api/v1/devices/" + id, null).body());
        assertThat(device.get("status").asText()).isEqualTo("ENROLLED");
        assertThat(device.get("certificates")).as(device.toString()).hasSize(1);
        assertThat(device.get("certificates").get(0).get("serial").asText()).isEqualTo(cert.getSerialNumber().toString(16));
    }

    @Test
    void repeated_request_after_a_lost_answer_gets_the_same_certificate_not_a_second_one() throws Exception {
        String id = "field-0002";
        server.registerDevice(id, "field");
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=" + id, idevidKeys, Duration.ofDays(3650));
        byte[] csr = TestPki.csr(id, TestPki.p256());
        try (CoapsTestClient client = CoapsTestClient.to(server).identity(idevidKeys, List.of(idevid, maker.certificate()))
                .build()) {
            Request first = enrollRequest(client, csr);
            CoapResponse answer = client.send(first);
            assertThat(answer.getCode()).as(describe(answer)).isEqualTo(ResponseCode.CHANGED);

            // The ACK was lost, so the device sends the very same message again: same message id, same
            // token. The server's deduplication answers it; the enrollment does not run twice.
            Request retransmission = enrollRequest(client, csr);
            retransmission.setMID(first.getMID());
            retransmission.setToken(first.getToken());
            CoapResponse again = client.send(retransmission);
            assertThat(again).as("no answer to the retransmission").isNotNull();
            assertThat(again.getCode()).as(describe(again)).isEqualTo(ResponseCode.CHANGED);
            assertThat(again.getPayload()).isEqualTo(answer.getPayload());

            // A device that gave up on the exchange and starts a new one with the same CSR gets the
            // certificate it already has (the core's repeat detection).
            CoapResponse anew = client.enroll("sen", csr, 281);
            assertThat(anew.getCode()).as(describe(anew)).isEqualTo(ResponseCode.CHANGED);
            assertThat(Certificates.fromPkcs7CertsOnly(anew.getPayload()).get(0))
                    .isEqualTo(Certificates.fromPkcs7CertsOnly(answer.getPayload()).get(0));
        }
        JsonNode device = Json.parse(server.api("GET", "/api/v1/devices/" + id, null).body());
        assertThat(device.get("certificates")).as(device.toString()).hasSize(1);
    }

    private static Request enrollRequest(CoapsTestClient client, byte[] csr) {
        Request request = Request.newPost();
        request.setURI(client.uri(CoapsTestClient.EST + "sen"));
        request.getOptions().setContentFormat(286);
        request.setPayload(csr);
        return request;
    }

    private static void assertChainsToRoot(X509Certificate cert) throws Exception {
        List<X509Certificate> chain = server.caChain();
        var path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert, chain.get(0)));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(chain.get(chain.size() - 1), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(path, params); // throws if it does not chain
    }

    /**
     * A UDP relay for one client: datagrams from the client go to the server and answers come
     * back, each direction dropping a seeded-random share. Deterministic apart from timing.
     */
    static final class LossyRelay implements AutoCloseable {
        private final DatagramSocket front;
        private final DatagramSocket back;
        private final InetSocketAddress server;
        private volatile SocketAddress client;
        final Direction upstream;
        final Direction downstream;
        private final Thread up;
        private final Thread down;

        LossyRelay(InetSocketAddress server, double loss, long seed) throws IOException {
            this.server = server;
            this.front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            this.back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            this.upstream = new Direction(new Random(seed), loss);
            this.downstream = new Direction(new Random(seed + 1), loss);
            this.up = new Thread(() -> pump(front, back, upstream, true), "lossy-relay-up");
            this.down = new Thread(() -> pump(back, front, downstream, false), "lossy-relay-down");
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) front.getLocalSocketAddress();
        }

        private void pump(DatagramSocket from, DatagramSocket to, Direction direction, boolean towardsServer) {
            byte[] buffer = new byte[65535];
            while (!from.isClosed()) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    from.receive(packet);
                    if (towardsServer) {
                        client = packet.getSocketAddress();
                    }
                    SocketAddress target = towardsServer ? server : client;
                    if (target == null || direction.drops()) {
                        continue;
                    }
                    to.send(new DatagramPacket(packet.getData(), packet.getOffset(), packet.getLength(), target));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            front.close();
            back.close();
            up.join(2_000);
            down.join(2_000);
        }

        static final class Direction {
            private final Random random;
            private final double loss;
            final AtomicInteger forwarded = new AtomicInteger();
            final AtomicInteger dropped = new AtomicInteger();

            Direction(Random random, double loss) {
                this.random = random;
                this.loss = loss;
            }

            /** Called from one thread only. */
            boolean drops() {
                if (random.nextDouble() < loss) {
                    dropped.incrementAndGet();
                    return true;
                }
                forwarded.incrementAndGet();
                return false;
            }

            @Override
            public String toString() {
                return forwarded + " forwarded, " + dropped + " dropped";
            }
        }
    }
}
