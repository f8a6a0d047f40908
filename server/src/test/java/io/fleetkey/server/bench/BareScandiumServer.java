package io.fleetkey.server.bench;

import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import io.fleetkey.server.config.FleetkeyConfiguration;
import io.fleetkey.server.transport.coap.CoapsDoor;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.DtlsHealth;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;

/**
 * The yardstick of {@link CoapsEnrollmentBenchmark}: a bare Californium/Scandium CoAP server with
 * the DTLS and CoAP settings of the EST-coaps door (same values from the same configuration: same
 * server key and chain sent, same suites, retransmission timeout, client certificates WANTED), whose
 * {@code /.well-known/est/sen} answers every POST at once with 2.04 and a fixed certs-only body
 * of an issued certificate's size. Client certificates are checked by Scandium's own
 * {@link StaticNewAdvancedCertificateVerifier} against the maker CA (PKIX path validation), where
 * the door asks the enrollment core.
 */
final class BareScandiumServer implements AutoCloseable {
    private final CoapServer server;
    private final DTLSConnector connector;
    private final LongAdder handshakes = new LongAdder();
    private final LongAdder records = new LongAdder();

    /**
     * @param chain the server's identity chain as {@code ServerIdentity} holds it (leaf, issuing CA,
     *              root); sent as the door sends it: never the root, the issuing CA unless turned off
     */
    BareScandiumServer(FleetkeyConfiguration config, PrivateKey key, List<X509Certificate> chain,
                       X509Certificate makerCa, byte[] answer) {
        // Exactly the door's CoAP and DTLS settings; only the verifier and the resource differ.
        Configuration coap = CoapsDoor.coapConfiguration(config);
        DtlsConnectorConfig dtls = CoapsDoor.dtlsSettings(coap, config.getCoaps(), key, chain)
                .setAddress(new InetSocketAddress("127.0.0.1", 0))
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder()
                        .setTrustedCertificates(makerCa).build())
                .setHealthHandler(new Counts(handshakes, records))
                .build();
        connector = new DTLSConnector(dtls);
        server = new CoapServer(coap);
        server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(coap).setConnector(connector).build());
        CoapResource est = new CoapResource("est");
        est.add(new CoapResource("sen") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                exchange.respond(ResponseCode.CHANGED, answer, 281);
            }
        });
        server.getRoot().getChild(".well-known").add(est);
        server.start();
    }

    DTLSConnector connector() {
        return connector;
    }

    int port() {
        return connector.getAddress().getPort();
    }

    /** Server-side full handshakes that succeeded so far. */
    long handshakes() {
        return handshakes.sum();
    }

    /** DTLS records received so far, handshake records included. */
    long records() {
        return records.sum();
    }

    @Override
    public void close() {
        server.destroy();
    }

    private record Counts(LongAdder ok, LongAdder records) implements DtlsHealth {
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
            if (success) {
                ok.increment();
            }
        }

        @Override
        public void receivingRecord(boolean drop) {
            records.increment();
        }

        @Override
        public void sendingRecord(boolean drop) {
        }
    }
}
