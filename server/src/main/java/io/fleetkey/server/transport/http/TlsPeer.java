package io.fleetkey.server.transport.http;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import io.micronaut.http.HttpRequest;

/** The TLS client certificate chain of a request, leaf first; empty when the client sent none. */
final class TlsPeer {
    private TlsPeer() {
    }

    static List<X509Certificate> clientChain(HttpRequest<?> request) {
        Optional<SSLSession> session = request.getSslSession();
        if (session.isEmpty()) {
            return List.of();
        }
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : session.get().getPeerCertificates()) {
                if (c instanceof X509Certificate x509) {
                    chain.add(x509);
                }
            }
            return chain;
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }
}
