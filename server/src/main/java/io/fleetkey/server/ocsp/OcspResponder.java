package io.fleetkey.server.ocsp;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fleetkey.server.enrollment.RejectedTraffic;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.RevocationReason;
import io.fleetkey.server.util.MinuteBudget;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.RevokedInfo;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCSP responder of the issuing CA (RFC 6960, with the RFC 5019 profile): reads a DER
 * OCSPRequest, answers each CertID from the certificate registry (good, revoked with time and
 * CRLReason, or unknown), and signs with the delegated {@link OcspSigning} key. Transport-free: a
 * door hands in bytes and sends the bytes it gets back.
 *
 * <p>A request without a nonce is answered from a cache keyed by its bytes (and so by its CertIDs)
 * for up to {@code cacheTime}; {@link #statusChanged()} empties it, so a revocation committed on this node shows
 * in the very next response. A request with a nonce is always signed fresh. Thread-safe.
 */
public final class OcspResponder {
    /** RFC 9654 §2.1 (which obsoletes RFC 8954 and its 32): a nonce is 1 to 128 octets. */
    static final int MAX_NONCE_BYTES = 128;
    /** Responses kept at most; each is about 600 bytes. */
    private static final int CACHE_ENTRIES = 20_000;
    private static final Logger LOG = LoggerFactory.getLogger(OcspResponder.class);
    private static final String DOOR = "OCSP";
    static final int REFUSALS_AUDITED_PER_MINUTE = 60;

    /** How responses look and how much a request may ask. */
    public record Settings(Duration nextUpdate, Duration cacheTime, int maxCertificates) {
    }

    private final CertificateRepository certificates;
    private final OcspSigning signing;
    private final Clock clock;
    private final Settings settings;
    /** Our issuing CA's name and key hashes per CertID hash algorithm (RFC 6960 §4.1.1). */
    private final Map<ASN1ObjectIdentifier, IssuerHashes> issuerHashes;
    private final Cache<ByteBuffer, OcspAnswer> cache;
    private final Consumer<String> answered;
    private final AuditLog audit;
    private final Executor auditWriter;
    /** Refusals anyone can cause without credentials: only so many a minute reach the audit log. */
    private final MinuteBudget refusalsAudited;
    private final Object cacheLock = new Object();
    private long generation;

    private record IssuerHashes(byte[] name, byte[] key) {
    }

    /**
     * @param answered    told of every answered request by {@link OcspAnswer#label()}, e.g. for a counter
     * @param audit       where refused requests are recorded, at most {@value #REFUSALS_AUDITED_PER_MINUTE} a minute
     * @param auditWriter runs those writes, so a refusal on an event loop does not wait for the registry
     */
    public OcspResponder(CertificateRepository certificates, OcspSigning signing, X509CertificateHolder issuingCa,
                         Clock clock, Settings settings, Consumer<String> answered, AuditLog audit,
                         Executor auditWriter) {
        this.answered = answered;
        this.audit = audit;
        this.auditWriter = auditWriter;
        this.refusalsAudited = new MinuteBudget(REFUSALS_AUDITED_PER_MINUTE, clock);
        this.certificates = certificates;
        this.signing = signing;
        this.clock = clock;
        this.settings = settings;
        this.issuerHashes = issuerHashes(issuingCa);
        this.cache = Caffeine.newBuilder().maximumSize(CACHE_ENTRIES)
                .expireAfterWrite(settings.cacheTime()).build();
    }

    private static Map<ASN1ObjectIdentifier, IssuerHashes> issuerHashes(X509CertificateHolder issuer) {
        try {
            DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
            Map<ASN1ObjectIdentifier, IssuerHashes> hashes = new HashMap<>();
            for (ASN1ObjectIdentifier alg : List.of(OIWObjectIdentifiers.idSHA1, NISTObjectIdentifiers.id_sha256,
                    NISTObjectIdentifiers.id_sha384, NISTObjectIdentifiers.id_sha512)) {
                CertificateID id = new CertificateID(digests.get(new AlgorithmIdentifier(alg)), issuer, BigInteger.ONE);
                hashes.put(alg, new IssuerHashes(id.getIssuerNameHash(), id.getIssuerKeyHash()));
            }
            return Map.copyOf(hashes);
        } catch (OperatorCreationException | OCSPException e) {
            throw new IllegalStateException("cannot hash the issuing CA for OCSP: " + e.getMessage(), e);
        }
    }

    /**
     * Answers one DER OCSPRequest. Never throws for anything a client sends: a request it cannot
     * answer gets an OCSPResponse with an error status and a reason.
     *
     * @param peer who asked, for the log of refused requests only
     */
    public OcspAnswer respond(byte[] der, String peer) {
        OcspAnswer answer = answer(der, peer);
        counted(answer);
        return answer;
    }

    /** The one place each answered request passes. */
    private void counted(OcspAnswer answer) {
        answered.accept(answer.label());
    }

    /**
     * The cached response to exactly these request bytes, if there is one: cheap enough for an
     * event loop (no parsing, no registry, no signature). Only requests without a nonce are cached.
     */
    public Optional<OcspAnswer> cached(byte[] der) {
        if (der == null || der.length == 0) {
            return Optional.empty();
        }
        OcspAnswer hit = cache.getIfPresent(ByteBuffer.wrap(der));
        if (hit == null) {
            return Optional.empty();
        }
        OcspAnswer answer = hit.fromCache();
        counted(answer);
        return Optional.of(answer);
    }

    /**
     * Answers tryLater (RFC 6960 §4.2.1): every signing thread is busy and the queue before them
     * is full, so the client should ask again shortly rather than wait.
     */
    public OcspAnswer busy(int queued, String peer) {
        OcspAnswer answer = refused(OcspAnswer.Status.TRY_LATER, queued + " requests are already waiting for a "
                + "signature; ask again in a moment", peer);
        counted(answer);
        return answer;
    }

    /** Answers a request that never arrived as DER, e.g. a GET path that is not base64. */
    public OcspAnswer refuseMalformed(String reason, String peer) {
        OcspAnswer answer = refused(OcspAnswer.Status.MALFORMED_REQUEST, reason, peer);
        counted(answer);
        return answer;
    }

    /**
     * Empties the response cache: a certificate's status changed (a revocation was committed) or
     * the signer was renewed. Responses being built when it is called are not cached.
     */
    public void statusChanged() {
        synchronized (cacheLock) {
            generation++;
            cache.invalidateAll();
        }
    }

    private OcspAnswer answer(byte[] der, String peer) {
        if (der == null || der.length == 0) {
            return refused(OcspAnswer.Status.MALFORMED_REQUEST, "the request is empty; send a DER OCSPRequest", peer);
        }
        OCSPReq request;
        Req[] requests;
        try {
            request = new OCSPReq(der);
            requests = request.getRequestList();
        } catch (IOException | RuntimeException e) {
            return refused(OcspAnswer.Status.MALFORMED_REQUEST, "the request is not a DER OCSPRequest (RFC 6960 §4.1)",
                    peer);
        }
        if (requests.length == 0) {
            return refused(OcspAnswer.Status.MALFORMED_REQUEST, "the request names no certificate", peer);
        }
        if (requests.length > settings.maxCertificates()) {
            return refused(OcspAnswer.Status.MALFORMED_REQUEST, "the request names " + requests.length
                    + " certificates; at most " + settings.maxCertificates() + " are answered at once", peer);
        }
        Extension nonce = request.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
        if (nonce != null) {
            int length = nonceLength(nonce);
            if (length < 1 || length > MAX_NONCE_BYTES) {
                return refused(OcspAnswer.Status.MALFORMED_REQUEST, "the nonce has " + length + " bytes; RFC 9654 "
                        + "allows 1 to " + MAX_NONCE_BYTES, peer);
            }
        }
        for (Req r : requests) {
            CertificateID id = r.getCertID();
            IssuerHashes ours = issuerHashes.get(id.getHashAlgOID());
            if (ours == null) {
                return refused(OcspAnswer.Status.UNAUTHORIZED, "CertID hash algorithm " + id.getHashAlgOID()
                        + " is not SHA-1, SHA-256, SHA-384 or SHA-512", peer);
            }
            if (!Arrays.equals(ours.name(), id.getIssuerNameHash()) || !Arrays.equals(ours.key(), id.getIssuerKeyHash())) {
                // RFC 5019 §2.2.3: this responder is not authoritative for another CA's certificates.
                return refused(OcspAnswer.Status.UNAUTHORIZED, "serial " + id.getSerialNumber().toString(16)
                        + " names another issuer; this responder answers for its issuing CA only", peer);
            }
        }
        // The same bytes are the same question: without a nonce they get the same answer.
        ByteBuffer key = nonce == null ? ByteBuffer.wrap(der) : null;
        if (key != null) {
            OcspAnswer cached = cache.getIfPresent(key);
            if (cached != null) {
                return cached.fromCache();
            }
        }
        long seen;
        synchronized (cacheLock) {
            seen = generation;
        }
        try {
            Signed signed = sign(requests, nonce);
            OcspAnswer answer = new OcspAnswer(signed.der(), OcspAnswer.Status.SUCCESSFUL, null, false, signed.verdict());
            if (key != null && signed.cacheable()) {
                synchronized (cacheLock) {
                    if (generation == seen) {
                        cache.put(key, answer);
                    }
                }
            }
            return answer;
        } catch (RuntimeException e) {
            // The registry or the signer failed: the client may ask again; the operator needs to know.
            LOG.error("Could not answer an OCSP request: {}", e.toString());
            return OcspAnswer.refused(status(OcspAnswer.Status.INTERNAL_ERROR), OcspAnswer.Status.INTERNAL_ERROR,
                    "the responder failed; the server log has the details");
        }
    }

    /** A signed response, and whether it may be served again (no unknown in it: a serial may be issued later). */
    private record Signed(byte[] der, boolean cacheable, String verdict) {
    }

    private Signed sign(Req[] requests, Extension nonce) {
        OcspSigning.Signer signer = signing.current();
        // RFC 5019 §2.2.4: GeneralizedTime without fractions of a second.
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Date thisUpdate = Date.from(now);
        Date nextUpdate = Date.from(now.plus(settings.nextUpdate()));
        BasicOCSPRespBuilder builder = new BasicOCSPRespBuilder(signer.respId());
        boolean cacheable = true;
        boolean revoked = false;
        for (Req r : requests) {
            CertificateID id = r.getCertID();
            CertificateStatus status = status(id.getSerialNumber());
            cacheable &= !(status instanceof UnknownStatus);
            revoked |= status instanceof RevokedStatus;
            builder.addResponse(id, status, thisUpdate, nextUpdate, null);
        }
        if (nonce != null) {
            builder.setResponseExtensions(new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce,
                    false, nonce.getExtnValue())));
        }
        try {
            BasicOCSPResp basic = builder.build(signer.signer().newContentSigner(),
                    new X509CertificateHolder[]{signer.holder()}, thisUpdate);
            return new Signed(new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded(), cacheable,
                    revoked ? "revoked" : cacheable ? "good" : "unknown");
        } catch (OCSPException | IOException e) {
            throw new IllegalStateException("cannot sign the OCSP response: " + e.getMessage(), e);
        }
    }

    /** RFC 6960 §2.2: good, revoked (time and reason), or unknown when the registry has no such serial. */
    private CertificateStatus status(BigInteger serial) {
        if (serial.signum() <= 0) {
            return new UnknownStatus();
        }
        CertificateRepository.Revocation issued = certificates.revocation(serial.toString(16)).orElse(null);
        if (issued == null) {
            return new UnknownStatus();
        }
        if (issued.status() == io.fleetkey.server.registry.CertificateStatus.GOOD) {
            return CertificateStatus.GOOD;
        }
        Date revokedAt = Date.from(issued.revokedAt().truncatedTo(ChronoUnit.SECONDS));
        RevocationReason reason = issued.reason();
        // RFC 5280 §5.3.1: unspecified is better left out than sent; the CRL does the same.
        return reason == null || reason == RevocationReason.UNSPECIFIED
                ? new RevokedStatus(new RevokedInfo(new ASN1GeneralizedTime(revokedAt), null))
                : new RevokedStatus(revokedAt, reason.code());
    }

    /** The nonce's length: RFC 9654 wraps it in an OCTET STRING; older clients sent it bare. */
    private static int nonceLength(Extension nonce) {
        byte[] value = nonce.getExtnValue().getOctets();
        try {
            return ASN1OctetString.getInstance(value).getOctets().length;
        } catch (RuntimeException e) {
            return value.length;
        }
    }

    private OcspAnswer refused(OcspAnswer.Status status, String reason, String peer) {
        RejectedTraffic.log(DOOR, status.name().toLowerCase(java.util.Locale.ROOT) + " for " + peer + ": " + reason);
        if (refusalsAudited.admit()) {
            AuditEvent event = new AuditEvent(clock.instant(), "anonymous", "ocsp.refused", null, "ocsp",
                    AuditLog.REFUSED, status.label() + " for " + peer + ": " + reason);
            try {
                auditWriter.execute(() -> {
                    try {
                        audit.append(event);
                    } catch (RuntimeException e) {
                        LOG.warn("Could not record a refused OCSP request in the audit log: {}", e.toString());
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.warn("Could not record a refused OCSP request in the audit log: the server is stopping");
            }
        }
        return OcspAnswer.refused(status(status), status, reason);
    }

    /** An OCSPResponse without responseBytes: every status but successful (RFC 6960 §4.2.1). */
    private static byte[] status(OcspAnswer.Status status) {
        try {
            return new OCSPRespBuilder().build(status.code(), null).getEncoded();
        } catch (OCSPException | IOException e) {
            throw new IllegalStateException("cannot encode an OCSP " + status + " response", e);
        }
    }
}
