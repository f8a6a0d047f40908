package io.fleetkey.server.transport.coap;

import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.security.auth.x500.X500Principal;

import io.fleetkey.server.enrollment.ChainRefusal;
import io.fleetkey.server.enrollment.EnrollmentService;
import io.fleetkey.server.enrollment.RejectedTraffic;
import org.eclipse.californium.elements.util.CertPathUtil;
import org.eclipse.californium.scandium.dtls.AlertMessage;
import org.eclipse.californium.scandium.dtls.AlertMessage.AlertDescription;
import org.eclipse.californium.scandium.dtls.AlertMessage.AlertLevel;
import org.eclipse.californium.scandium.dtls.CertificateMessage;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.CertificateVerificationResult;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.util.ServerNames;
import org.eclipse.californium.scandium.dtls.x509.NewAdvancedCertificateVerifier;

/**
 * Scandium's certificate check, answered by the enrollment core
 * ({@link EnrollmentService#screenClientChain}): the handshake admits exactly the chains the
 * enrollment path could accept (a current Fleetkey device certificate, or a factory certificate
 * under some group's maker CA); everything else ends in a fatal alert. The chain the client
 * sent becomes the session's identity, and the core checks it again, per request, against the
 * device's own group.
 */
final class DtlsClientCertificates implements NewAdvancedCertificateVerifier {
    private final EnrollmentService enrollment;

    DtlsClientCertificates(EnrollmentService enrollment) {
        this.enrollment = enrollment;
    }

    @Override
    public List<CertificateType> getSupportedCertificateTypes() {
        return List.of(CertificateType.X_509);
    }

    @Override
    public CertificateVerificationResult verifyCertificate(ConnectionId cid, ServerNames serverName,
                                                           InetSocketAddress remotePeer, boolean clientUsage,
                                                           boolean verifySubject, boolean truncateCertificatePath,
                                                           CertificateMessage message) {
        if (message.isEmpty() || message.getCertificateChain() == null) {
            // No certificate: allowed, the device then proves itself with a token in its CSR.
            return new CertificateVerificationResult(cid, (java.security.cert.CertPath) null, null);
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : message.getCertificateChain().getCertificates()) {
            chain.add((X509Certificate) c);
        }
        if (!CertPathUtil.canBeUsedForAuthentication(chain.get(0), true)) {
            return refuse(cid, remotePeer, AlertDescription.UNSUPPORTED_CERTIFICATE,
                    "'" + chain.get(0).getSubjectX500Principal().getName() + "' is not for TLS client authentication "
                            + "(key usage or extended key usage)");
        }
        Optional<ChainRefusal> refusal = enrollment.screenClientChain(chain);
        if (refusal.isPresent()) {
            AlertDescription alert = switch (refusal.get().kind()) {
                case EXPIRED -> AlertDescription.CERTIFICATE_EXPIRED;
                case REVOKED -> AlertDescription.CERTIFICATE_REVOKED;
                case UNTRUSTED -> AlertDescription.BAD_CERTIFICATE;
            };
            return refuse(cid, remotePeer, alert, refusal.get().reason());
        }
        return new CertificateVerificationResult(cid, message.getCertificateChain(), null);
    }

    private static CertificateVerificationResult refuse(ConnectionId cid, InetSocketAddress peer,
                                                        AlertDescription alert, String reason) {
        RejectedTraffic.log("EST-coaps", "DTLS handshake from " + peer + " refused (" + alert + "): " + reason);
        return new CertificateVerificationResult(cid,
                new HandshakeException(reason, new AlertMessage(AlertLevel.FATAL, alert)), null);
    }

    @Override
    public List<X500Principal> getAcceptedIssuers() {
        return List.of(); // any issuer: the core decides, and maker CAs come and go with groups
    }

    @Override
    public void setResultHandler(HandshakeResultHandler resultHandler) {
        // answers are synchronous
    }
}
