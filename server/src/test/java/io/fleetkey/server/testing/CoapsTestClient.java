package io.fleetkey.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.exception.ConnectorException;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;

/**
 * An EST-coaps (RFC 9148) device for tests: a Californium CoAP client on its own Scandium DTLS
 * connector, trusting only the test server's root, optionally presenting a client certificate.
 * Every Californium object gets an explicit {@link Configuration}, so nothing falls back to the
 * global one (which would write Californium3.properties into the working directory).
 */
public final class CoapsTestClient implements AutoCloseable {
    public static final String EST = "/.well-known/est/";

    static {
        CoapConfig.register();
        DtlsConfig.register();
    }

    private final String base;
    private final CoapEndpoint endpoint;
    private final CoapClient client;

    private CoapsTestClient(Builder b) {
        Configuration cfg = new Configuration(); // the registered defaults; the global standard stays untouched
        if (b.transparentBlockwise) {
            cfg.set(CoapConfig.PREFERRED_BLOCK_SIZE, b.blockSize);
            cfg.set(CoapConfig.MAX_MESSAGE_SIZE, b.maxMessageSize);
        } else {
            // 0 turns the blockwise layer off: Block1/Block2 options travel exactly as the test sets them.
            cfg.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, 0);
            cfg.set(CoapConfig.MAX_MESSAGE_SIZE, 16 * 1024);
        }
        b.configuration.accept(cfg);
        DtlsConnectorConfig.Builder dtls = DtlsConnectorConfig.builder(cfg)
                .setAddress(new InetSocketAddress("127.0.0.1", 0))
                .set(DtlsConfig.DTLS_ROLE, DtlsRole.CLIENT_ONLY)
                .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8)
                // The server's chain ends in a P-384 root that signed the issuing CA with SHA-384.
                .setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA,
                        SignatureAndHashAlgorithm.SHA384_WITH_ECDSA)
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder()
                        .setTrustedCertificates(b.trustAnchor).build());
        if (b.keys != null) {
            dtls.setCertificateIdentityProvider(new SingleCertificateProvider(b.keys.getPrivate(),
                    b.chain.toArray(new X509Certificate[0]), CertificateType.X_509));
        }
        b.dtls.accept(dtls);
        this.endpoint = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setConnector(new DTLSConnector(dtls.build())).build();
        try {
            endpoint.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the test CoAP client", e);
        }
        this.base = "coaps://127.0.0.1:" + b.target.getPort();
        this.client = new CoapClient();
        client.setEndpoint(endpoint);
        client.setTimeout(b.timeout.toMillis());
        if (b.earlyBlock2 > 0) {
            client.useEarlyNegotiation(b.earlyBlock2);
        }
    }

    /** A client of the server's CoAP door that trusts the server's root. */
    public static Builder to(TestServer server) {
        return new Builder(server.caChain().get(server.caChain().size() - 1),
                new InetSocketAddress("127.0.0.1", server.coapsPort()));
    }

    public static final class Builder {
        private final X509Certificate trustAnchor;
        private InetSocketAddress target;
        private KeyPair keys;
        private List<X509Certificate> chain = List.of();
        private int blockSize = 512;
        private int maxMessageSize = 1024;
        private int earlyBlock2;
        private boolean transparentBlockwise = true;
        private Duration timeout = Duration.ofSeconds(20);
        private Consumer<Configuration> configuration = c -> { };
        private Consumer<DtlsConnectorConfig.Builder> dtls = d -> { };

        private Builder(X509Certificate trustAnchor, InetSocketAddress target) {
            this.trustAnchor = trustAnchor;
            this.target = target;
        }

        /** Presents this client certificate chain (leaf first) in the DTLS handshake. */
        public Builder identity(KeyPair keys, List<X509Certificate> chain) {
            this.keys = keys;
            this.chain = new ArrayList<>(chain);
            return this;
        }

        /** Sends requests in blocks of this size and asks for responses in blocks of this size. */
        public Builder blocks(int size) {
            this.blockSize = size;
            this.maxMessageSize = size;
            this.earlyBlock2 = size;
            return this;
        }

        /** No transparent block-wise handling: the test writes Block1/Size1 options itself. */
        public Builder rawBlockwise() {
            this.transparentBlockwise = false;
            return this;
        }

        /** Talks to another UDP address (e.g. a relay in front of the server) instead of the door. */
        public Builder via(InetSocketAddress target) {
            this.target = target;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Further CoAP settings, applied before the DTLS configuration copies them. */
        public Builder coap(Consumer<Configuration> settings) {
            this.configuration = settings;
            return this;
        }

        /** Further DTLS settings. */
        public Builder dtls(Consumer<DtlsConnectorConfig.Builder> settings) {
            this.dtls = settings;
            return this;
        }

        public CoapsTestClient build() {
            return new CoapsTestClient(this);
        }
    }

    /** The coaps URI of a path on the target, e.g. {@code /.well-known/core}. */
    public String uri(String path) {
        return base + path;
    }

    /** GET; {@code accept} &lt; 0 sends no Accept option. Null when no response came in time. */
    public CoapResponse get(String path, int accept) throws ConnectorException, IOException {
        Request request = Request.newGet();
        request.setURI(uri(path));
        if (accept >= 0) {
            request.getOptions().setAccept(accept);
        }
        return send(request);
    }

    /** POST; {@code contentFormat} or {@code accept} &lt; 0 leave that option out. */
    public CoapResponse post(String path, byte[] payload, int contentFormat, int accept)
            throws ConnectorException, IOException {
        Request request = Request.newPost();
        request.setURI(uri(path));
        request.setPayload(payload);
        if (contentFormat >= 0) {
            request.getOptions().setContentFormat(contentFormat);
        }
        if (accept >= 0) {
            request.getOptions().setAccept(accept);
        }
        return send(request);
    }

    /** POSTs a DER CSR to an EST operation ({@code sen}, {@code sren}) as Content-Format 286. */
    public CoapResponse enroll(String operation, byte[] csrDer, int accept) throws ConnectorException, IOException {
        return post(EST + operation, csrDer, 286, accept);
    }

    /** Sends a request built by the test; set its URI with {@link #uri}. */
    public CoapResponse send(Request request) throws ConnectorException, IOException {
        return client.advanced(request);
    }

    public CoapEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        client.shutdown();
        endpoint.destroy();
    }

    /** A readable one-line summary of a response for assertion messages. */
    public static String describe(CoapResponse response) {
        if (response == null) {
            return "no response";
        }
        String text = MediaTypeRegistry.isPrintable(response.getOptions().getContentFormat())
                || !response.getOptions().hasContentFormat() ? response.getResponseText() : response.getPayloadSize() + " bytes";
        return response.getCode() + " " + response.getOptions() + " " + text;
    }
}
