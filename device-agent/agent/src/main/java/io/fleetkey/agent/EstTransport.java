package io.fleetkey.agent;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One door to the Fleetkey server that carries EST (RFC 7030 operations): HTTPS
 * ({@link EstHttpsClient}), CoAP over DTLS ({@link EstCoapsClient}, RFC 9148) or MQTT
 * ({@link EstMqttClient}). The payloads are the same on every door: a DER PKCS#10 request in,
 * the issued certificate out. How the device proves who it is depends on the request, not on the
 * door: a first enrollment carries the one-time token in the CSR's {@code challengePassword};
 * a renewal is authenticated by the device's current certificate, which the transport presents
 * in its TLS or DTLS handshake when it was built with the device's identity.
 * <p>
 * Every call blocks until the answer, a refusal or a bounded timeout. Implementations are
 * thread-safe unless they say otherwise. Failures are reported the same way on every door:
 * <ul>
 *   <li>{@link EstException}: the server answered, and not with what was asked for (a refusal
 *       with its {@link io.fleetkey.protocol.FailureCode}, or an unusable answer);</li>
 *   <li>{@link EnrollmentPendingException}: the request waits for approval; send the same CSR
 *       after {@link EnrollmentPendingException#retryAfter()};</li>
 *   <li>{@link IOException}: the server could not be reached, the secure channel failed, or no
 *       answer came in time.</li>
 * </ul>
 */
public interface EstTransport extends AutoCloseable {

    /** Where this transport talks to, for messages: e.g. {@code coaps://fleetkey.example.com:5684}. */
    String endpoint();

    /**
     * The CA certificates the server wants clients to trust (RFC 7030 §4.1, RFC 9148 {@code crts}).
     * Their order carries no meaning; build chains by issuer name.
     */
    List<X509Certificate> caCertificates() throws EstException, IOException, InterruptedException;

    /**
     * A new freshness nonce for evidence or a device statement (draft-ietf-lamps-attestation-freshness):
     * {@code GET /.well-known/est/nonce} on HTTPS and CoAP, operation {@code nonce} on MQTT.
     */
    FreshnessNonce nonce() throws EstException, IOException, InterruptedException;

    /**
     * Enrollment (RFC 7030 §4.2.1 simpleenroll, RFC 9148 {@code sen}).
     *
     * @param csrDer DER PKCS#10 request whose CN is the device id; for a device without a
     *               certificate it carries the enrollment token as {@code challengePassword}
     * @return the issued certificate, the one that certifies the CSR's public key
     * @throws EstException               when the server refuses or answers with something unusable
     * @throws EnrollmentPendingException when the server holds the request; send the same CSR later
     * @throws IOException                when the server cannot be reached, the channel fails, or a timeout passes
     */
    X509Certificate simpleEnroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException;

    /**
     * Re-enrollment (RFC 7030 §4.2.2 simplereenroll, RFC 9148 {@code sren}), authenticated by the
     * device's current certificate; the CSR names the same subject with a new key.
     *
     * @throws EstException               when the server refuses or answers with something unusable
     * @throws EnrollmentPendingException when the server holds the request
     * @throws IOException                when the server cannot be reached, the channel fails, or a timeout passes
     */
    X509Certificate simpleReenroll(byte[] csrDer)
            throws EstException, EnrollmentPendingException, IOException, InterruptedException;

    /** Releases connections, sockets and threads. Idempotent; never throws. */
    @Override
    void close();
}
