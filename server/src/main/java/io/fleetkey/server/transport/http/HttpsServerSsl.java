package io.fleetkey.server.transport.http;

import java.security.cert.X509Certificate;
import java.util.Optional;

import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;

import io.fleetkey.server.authority.ServerIdentity;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.server.netty.ssl.ServerSslBuilder;
import io.micronaut.http.ssl.ServerSslConfiguration;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import jakarta.inject.Singleton;

/**
 * TLS of the HTTPS door: the server certificate from our own CA, and client certificates
 * requested but optional. The handshake proves the client holds the certificate's key; which
 * anchors the chain must reach (a maker CA for an IDevID, our issuing CA for renewal) depends
 * on the operation and the device's group, so {@link io.fleetkey.server.enrollment.EnrollmentService}
 * checks it, not the TLS layer.
 */
@Singleton
@Replaces(ServerSslBuilder.class)
public class HttpsServerSsl implements ServerSslBuilder {
    private final ServerSslConfiguration configuration;
    private final ServerIdentity identity;

    public HttpsServerSsl(ServerSslConfiguration configuration, ServerIdentity identity) {
        this.configuration = configuration;
        this.identity = identity;
    }

    @Override
    public ServerSslConfiguration getSslConfiguration() {
        return configuration;
    }

    @Override
    public Optional<SslContext> build() {
        try {
            return Optional.of(SslContextBuilder
                    .forServer(identity.key(), identity.chain().toArray(X509Certificate[]::new))
                    .trustManager(new DeferredClientTrust())
                    .clientAuth(ClientAuth.OPTIONAL)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build());
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the HTTPS server's TLS context: " + e.getMessage(), e);
        }
    }

    /** Accepts any client chain in the handshake; the enrollment core verifies it per request. */
    private static final class DeferredClientTrust implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // Verified later against the anchors the operation calls for.
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException("server-side trust manager");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
