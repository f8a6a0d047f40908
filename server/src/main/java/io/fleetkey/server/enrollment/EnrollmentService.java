package io.fleetkey.server.enrollment;

import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.FailureCode;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.enrollment.EnrollmentResult.Issued;
import io.fleetkey.server.enrollment.EnrollmentResult.Pending;
import io.fleetkey.server.enrollment.EnrollmentResult.Refused;
import io.fleetkey.server.policy.CertificateProfile;
import io.fleetkey.server.policy.KeyPolicy;
import io.fleetkey.server.policy.ProfileCatalog;
import io.fleetkey.server.registry.AttestationHistory;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.AttestationRecord;
import io.fleetkey.server.registry.AttestationResult;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.CertificateStatus;
import io.fleetkey.server.registry.Device;
import io.fleetkey.server.events.DeviceNotice;
import io.fleetkey.server.registry.DeviceFilter;
import io.fleetkey.server.registry.DeviceRepository;
import io.fleetkey.server.registry.DeviceStatus;
import io.fleetkey.server.registry.DuplicateKeyException;
import io.fleetkey.server.registry.EnrollmentGroup;
import io.fleetkey.server.registry.EnrollmentToken;
import io.fleetkey.server.registry.Page;
import io.fleetkey.server.registry.GroupRepository;
import io.fleetkey.server.registry.IssuedCertificate;
import io.fleetkey.server.registry.TokenRepository;
import io.fleetkey.server.registry.Transactions;
import io.fleetkey.server.util.Digests;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.est.AttrOrOID;
import org.bouncycastle.asn1.est.CsrAttrs;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one enrollment service every door calls (RFC 7030 semantics, no transport types).
 * Issuance is a fixed pipeline: check the CSR → authenticate from what the channel proved →
 * device status → profile and group policy → approval → repeat detection → sign and record in
 * one transaction → return. A certificate is committed to the registry before it is returned.
 * Thread-safe; calls block on the database, so doors call it from a blocking executor.
 */
public final class EnrollmentService {
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentService.class);

    private final CertificateAuthority authority;
    private final ProfileCatalog profiles;
    private final CsrChecker csrChecker;
    private final ClientCertificateVerifier chains;
    private final StatementProof statements;
    private final DeviceRepository devices;
    private final GroupRepository groups;
    private final CertificateRepository certificates;
    private final TokenRepository tokens;
    private final AuditLog audit;
    private final RefusalAudit refusals;
    private final Transactions transactions;
    private final Clock clock;
    private final FreshnessNonces nonces;
    private final AttestationHistory attestations;
    private final Settings settings;
    private final EnrollmentObserver observer;
    private final byte[] csrAttributes;

    /**
     * @param retryWindow        a repeated CSR with the same key within this window gets the earlier certificate
     * @param approvalRetryAfter Retry-After while waiting for approval
     */
    public record Settings(Duration retryWindow, Duration approvalRetryAfter) {
    }

    public EnrollmentService(CertificateAuthority authority, ProfileCatalog profiles, KeyPolicy keyPolicy,
                             CryptoProvider provider, DeviceRepository devices, GroupRepository groups,
                             CertificateRepository certificates, TokenRepository tokens, AuditLog audit,
                             Transactions transactions, Clock clock, Settings settings, FreshnessNonces nonces,
                             AttestationHistory attestations, EnrollmentObserver observer) {
        this.authority = authority;
        this.profiles = profiles;
        this.csrChecker = new CsrChecker(keyPolicy, provider);
        this.chains = new ClientCertificateVerifier(provider.name());
        this.statements = new StatementProof(List.of(new EatJwtVerifier(provider)));
        this.devices = devices;
        this.groups = groups;
        this.certificates = certificates;
        this.tokens = tokens;
        this.audit = audit;
        this.refusals = new RefusalAudit(audit, devices, clock);
        this.transactions = transactions;
        this.clock = clock;
        this.settings = settings;
        this.nonces = nonces;
        this.attestations = attestations;
        this.observer = observer;
        this.csrAttributes = encodeCsrAttributes();
    }

    /** RFC 7030 §4.1: the CA certificates a client should trust; issuing CA first, root last. */
    public List<X509Certificate> caCertificates() {
        return authority.chain();
    }

    /** RFC 7030 §4.5: DER CsrAttrs telling clients what to put in a CSR. */
    public byte[] csrAttributes() {
        return csrAttributes.clone();
    }

    /**
     * The notices that stand until further notice: one {@code REVOKED} per revoked device. A
     * door whose notices can be lost (a broker that keeps retained messages in memory only)
     * publishes them again when it connects.
     */
    public List<DeviceNotice> standingNotices() {
        List<DeviceNotice> notices = new ArrayList<>();
        DeviceFilter revoked = new DeviceFilter(null, DeviceStatus.REVOKED, null);
        for (int page = 0; ; page++) {
            Page<Device> devicesPage = devices.list(revoked, page, 1000);
            for (Device d : devicesPage.items()) {
                notices.add(new DeviceNotice(d.deviceId(), DeviceNotice.Kind.REVOKED, d.updatedAt(), null));
            }
            if (devicesPage.items().size() < 1000) {
                return notices;
            }
        }
    }

    /**
     * RFC 7030 §4.2.1 simpleenroll: a first certificate, or a new one for an enrolled device.
     *
     * @param door the door the request came in by, for the {@link EnrollmentObserver}
     */
    public EnrollmentResult enroll(Door door, byte[] csrDer, ChannelProof proof) {
        return observed(door, EnrollmentObserver.Operation.ENROLL, () -> checkAndEnroll(door, csrDer, proof));
    }

    /**
     * RFC 7030 §4.2.2 simplereenroll: renewal authenticated by the device's current certificate.
     *
     * @param door the door the request came in by, for the {@link EnrollmentObserver}
     */
    public EnrollmentResult reenroll(Door door, byte[] csrDer, ChannelProof proof) {
        return observed(door, EnrollmentObserver.Operation.REENROLL, () -> checkAndReenroll(door, csrDer, proof));
    }

    /** Every answer of both operations, and every failure to answer, passes the observer here and only here. */
    private EnrollmentResult observed(Door door, EnrollmentObserver.Operation operation,
                                      Supplier<EnrollmentResult> call) {
        long start = System.nanoTime();
        EnrollmentResult result;
        try {
            result = call.get();
        } catch (RuntimeException | Error e) {
            observer.failed(door, operation, System.nanoTime() - start);
            throw e;
        }
        observer.answered(door, operation, result, System.nanoTime() - start);
        return result;
    }

    private EnrollmentResult checkAndEnroll(Door door, byte[] csrDer, ChannelProof proof) {
        Outcome<ParsedCsr> checked = csrChecker.check(csrDer);
        if (checked instanceof Outcome.No<ParsedCsr> no) {
            return refuse(null, no.refused());
        }
        ParsedCsr csr = ((Outcome.Ok<ParsedCsr>) checked).value();
        return audited("enrollment.refused", door, csr, enroll(csr, proof));
    }

    /** Refusals of a registered device go to the audit log too ({@link RefusalAudit}). */
    private EnrollmentResult audited(String action, Door door, ParsedCsr csr, EnrollmentResult result) {
        if (result instanceof Refused refused) {
            refusals.record(action, door, csr.deviceId(), refused);
        }
        return result;
    }

    private EnrollmentResult enroll(ParsedCsr csr, ChannelProof proof) {
        Outcome<Attempt> stated = withStatement(csr, proof, "enroll");
        if (stated instanceof Outcome.No<Attempt> no) {
            return refuse(csr.deviceId(), no.refused());
        }
        Attempt attempt = ((Outcome.Ok<Attempt>) stated).value();
        return withSignerRefusalsKept(csr, "enroll", attempt.statement(),
                enrollAuthenticated(csr, attempt.proof(), attempt.statement()));
    }

    /**
     * Where a request's statement signer turned out not to be trusted for the device, keeps the
     * reason in the device's attestation history (as unverified), as for a bad signature.
     */
    private EnrollmentResult withSignerRefusalsKept(ParsedCsr csr, String operation,
                                                    StatementProof.Verified statement, EnrollmentResult result) {
        if (statement != null && result instanceof Refused refused && SIGNER_REFUSALS.contains(refused.code())) {
            unverified(csr, operation, statement, refused);
        }
        return result;
    }

    private static final java.util.Set<FailureCode> SIGNER_REFUSALS = java.util.EnumSet.of(
            FailureCode.UNTRUSTED_CLIENT_CERTIFICATE, FailureCode.SUBJECT_MISMATCH, FailureCode.STALE_EVIDENCE);

    private EnrollmentResult enrollAuthenticated(ParsedCsr csr, ChannelProof proof, StatementProof.Verified statement) {
        if (proof instanceof ChannelProof.Token token) {
            return enrollWithToken(csr, token, statement);
        }
        if (proof instanceof ChannelProof.Named named && csr.challengePassword() != null) {
            if (!named.encrypted()) {
                return refuse(csr.deviceId(), new Refused(FailureCode.NOT_AUTHENTICATED,
                        "the CSR carries an enrollment token, but this request came over a connection that may not "
                                + "be encrypted; tokens are accepted only over TLS (connect to the broker's TLS port)"));
            }
            return enrollWithToken(csr, new ChannelProof.Token(named.deviceId(), csr.challengePassword()), statement);
        }
        if (proof instanceof ChannelProof.None && csr.challengePassword() != null) {
            // A device with no channel credentials may carry its token in the CSR; every door is encrypted.
            return enrollWithToken(csr, new ChannelProof.Token(csr.deviceId(), csr.challengePassword()), statement);
        }
        if (proof instanceof ChannelProof.ClientCertificate cert) {
            if (isIssuedByUs(cert)) {
                return renew(csr, cert, statement); // RFC 7030 §3.3.2: a current certificate may authenticate simpleenroll too
            }
            return enrollWithFactoryIdentity(csr, cert, statement);
        }
        return refuse(csr.deviceId(), new Refused(FailureCode.NOT_AUTHENTICATED,
                "first enrollment needs the device's one-time enrollment token (HTTP Basic with the device id, "
                        + "or the CSR's challengePassword) or a factory (IDevID) client certificate"));
    }

    /**
     * Decides whether a client certificate chain may open a session at all, before any request:
     * doors whose handshake needs an answer (DTLS) ask here, so they trust exactly what the
     * enrollment path trusts. A chain passes when it is a current, unrevoked Fleetkey device
     * certificate, or chains to a maker CA of some group (which group is decided per request).
     */
    public Optional<ChainRefusal> screenClientChain(List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            return Optional.of(new ChainRefusal(ChainRefusal.Kind.UNTRUSTED, "no certificate was presented"));
        }
        X509Certificate leaf = chain.get(0);
        Instant now = clock.instant();
        if (isIssuedByUs(new ChannelProof.ClientCertificate(chain))) {
            Optional<ChainRefusal> problem = chains.check(chain, List.of(authority.chain().get(0)), now)
                    .map(ChainRefusal::of);
            if (problem.isPresent()) {
                return problem;
            }
            Optional<IssuedCertificate> issued = certificates.find(leaf.getSerialNumber().toString(16));
            if (issued.isEmpty() || issued.get().deviceId() == null) {
                return Optional.of(new ChainRefusal(ChainRefusal.Kind.UNTRUSTED,
                        "certificate " + leaf.getSerialNumber().toString(16) + " is not a device certificate in the registry"));
            }
            if (issued.get().status() == CertificateStatus.REVOKED
                    || devices.find(issued.get().deviceId()).map(d -> d.status() == DeviceStatus.REVOKED).orElse(true)) {
                return Optional.of(new ChainRefusal(ChainRefusal.Kind.REVOKED,
                        "device '" + issued.get().deviceId() + "' or its certificate is revoked"));
            }
            return Optional.empty();
        }
        List<X509Certificate> makerCas = groups.allMakerCas();
        if (makerCas.isEmpty()) {
            return Optional.of(new ChainRefusal(ChainRefusal.Kind.UNTRUSTED, "'" + leaf.getSubjectX500Principal().getName()
                    + "' is not a Fleetkey certificate, and no group has a maker CA for factory certificates"));
        }
        Optional<ChainRefusal> problem = chains.check(chain, makerCas, now).map(ChainRefusal::of);
        if (problem.isPresent()) {
            return problem;
        }
        return MakerRevocations.check(chain, groups.allMakerCrls())
                .map(reason -> new ChainRefusal(ChainRefusal.Kind.REVOKED, reason));
    }

    /**
     * The CAs under which {@link #screenClientChain} can accept a client certificate: the issuing
     * CA (Fleetkey device certificates) and every group's maker CA (factory identities). A TLS
     * stack that needs a trust store up front gets these; the screening still decides.
     */
    public List<X509Certificate> clientCertificateIssuers() {
        List<X509Certificate> issuers = new java.util.ArrayList<>();
        issuers.add(authority.chain().get(0));
        for (X509Certificate maker : groups.allMakerCas()) {
            if (!issuers.contains(maker)) {
                issuers.add(maker);
            }
        }
        return issuers;
    }

    /**
     * Whether a chain that passed {@link #screenClientChain} names this device: a Fleetkey
     * certificate by its CN, a factory certificate (IDevID) by its CN or its serialNumber
     * attribute, the same rule as a first enrollment with a factory identity.
     */
    public boolean chainNamesDevice(List<X509Certificate> chain, String deviceId) {
        return deviceId != null && devicesNamedBy(chain).contains(deviceId);
    }

    /**
     * The device ids a chain that passed {@link #screenClientChain} names, by the rule of
     * {@link #chainNamesDevice}: the CN of a Fleetkey certificate, the CN and serialNumber
     * attributes of a factory certificate.
     */
    public java.util.Set<String> devicesNamedBy(List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            return java.util.Set.of();
        }
        X509Certificate leaf = chain.get(0);
        X500Name subject = X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
        if (isIssuedByUs(new ChannelProof.ClientCertificate(chain))) {
            var cns = subject.getRDNs(BCStyle.CN);
            return cns.length == 1 ? java.util.Set.of(IETFUtils.valueToString(cns[0].getFirst().getValue()))
                    : java.util.Set.of();
        }
        return factoryIdentityNames(leaf);
    }

    /**
     * Decides whether a device may open a session without any certificate, before its first
     * one (the token is checked later, in its CSR): it must be registered and not revoked.
     *
     * @return empty if it may, else a reason for the log
     */
    public Optional<String> screenDeviceWithoutCertificate(String deviceId) {
        Optional<Device> device = devices.find(deviceId);
        if (device.isEmpty()) {
            return Optional.of("device '" + CsrChecker.printable(deviceId) + "' is not registered");
        }
        if (device.get().status() == DeviceStatus.REVOKED) {
            return Optional.of("device '" + deviceId + "' is revoked");
        }
        return Optional.empty();
    }

    private EnrollmentResult checkAndReenroll(Door door, byte[] csrDer, ChannelProof proof) {
        Outcome<ParsedCsr> checked = csrChecker.check(csrDer);
        if (checked instanceof Outcome.No<ParsedCsr> no) {
            return refuse(null, no.refused());
        }
        ParsedCsr csr = ((Outcome.Ok<ParsedCsr>) checked).value();
        return audited("renewal.refused", door, csr, reenroll(csr, proof));
    }

    private EnrollmentResult reenroll(ParsedCsr csr, ChannelProof proof) {
        Outcome<Attempt> stated = withStatement(csr, proof, "renew");
        if (stated instanceof Outcome.No<Attempt> no) {
            return refuse(csr.deviceId(), no.refused());
        }
        proof = ((Outcome.Ok<Attempt>) stated).value().proof();
        if (!(proof instanceof ChannelProof.ClientCertificate cert) || !isIssuedByUs(cert)) {
            return refuse(csr.deviceId(), new Refused(FailureCode.NOT_AUTHENTICATED,
                    "re-enrollment needs the device's current Fleetkey certificate: as TLS client certificate, "
                            + "or as signer of a device statement in the CSR"));
        }
        StatementProof.Verified statement = ((Outcome.Ok<Attempt>) stated).value().statement();
        return withSignerRefusalsKept(csr, "renew", statement, renew(csr, cert, statement));
    }

    /** What authenticated a request, and the device statement it carried (null when none). */
    private record Attempt(ChannelProof proof, StatementProof.Verified statement) {
    }

    /**
     * Checks the device statement a CSR may carry ({@link StatementProof}). Where the channel
     * proved no certificate, the statement stands in for one; where it did, the statement must be
     * signed by that same certificate; next to a token, its signer must be trusted on its own. A
     * channel that names the device (an MQTT topic) must name the CSR's device.
     *
     * @param operation {@code enroll} or {@code renew}, for the attestation history
     */
    private Outcome<Attempt> withStatement(ParsedCsr csr, ChannelProof proof, String operation) {
        if (proof instanceof ChannelProof.Named named && !named.deviceId().equals(csr.deviceId())) {
            return Outcome.no(FailureCode.SUBJECT_MISMATCH, "the CSR's CN '" + csr.deviceId()
                    + "' is not the device '" + named.deviceId() + "' whose topic the request came on");
        }
        Optional<Outcome<StatementProof.Verified>> statement = statements.check(csr, clock.instant());
        if (statement.isEmpty()) {
            return Outcome.ok(new Attempt(proof, null));
        }
        if (statement.get() instanceof Outcome.No<StatementProof.Verified> no) {
            return unverified(csr, operation, null, no.refused());
        }
        StatementProof.Verified verified = ((Outcome.Ok<StatementProof.Verified>) statement.get()).value();
        if (proof instanceof ChannelProof.ClientCertificate channel
                && !channel.leaf().equals(verified.signer().leaf())) {
            return unverified(csr, operation, verified, new Refused(FailureCode.NOT_AUTHENTICATED, "the device "
                    + "statement is signed by " + verified.signerName() + ", not by the client certificate of the "
                    + "connection; sign it with the key of the certificate you connect with"));
        }
        // A token, from the channel or in the CSR, stays what authenticates; the statement is then evidence.
        boolean token = proof instanceof ChannelProof.Token || (csr.challengePassword() != null
                && (proof instanceof ChannelProof.None || proof instanceof ChannelProof.Named));
        // Checked here, spent only in the transaction that issues: a request that is refused, or
        // a stranger's statement, never uses up a device's nonce.
        if (verified.nonce() != null) {
            Optional<String> stale = nonces.check(verified.nonce(), csr.publicKeySha256());
            if (stale.isPresent()) {
                return unverified(csr, operation, verified, new Refused(FailureCode.STALE_EVIDENCE, stale.get()));
            }
        }
        boolean channelProved = proof instanceof ChannelProof.ClientCertificate || token;
        return Outcome.ok(new Attempt(channelProved ? proof : verified.signer(), verified));
    }

    /**
     * Refuses a request whose statement did not verify, and keeps the reason in the attestation
     * history of the device the CSR names, when its group appraises evidence: the fleet manager
     * sees why a device fails. Such entries are marked unverified, since the request did not
     * prove it came from that device.
     */
    private Outcome<Attempt> unverified(ParsedCsr csr, String operation, StatementProof.Verified statement,
                                        Refused refused) {
        devices.find(csr.deviceId()).ifPresent(device -> {
            EnrollmentGroup group = groupOf(device);
            if (group.attestation().mode() != AttestationPolicy.Mode.OFF) {
                attestations.append(new AttestationRecord(clock.instant(), device.deviceId(), operation,
                        AttestationResult.UNVERIFIED, AttestationRecord.Decision.REFUSED, List.of(refused.reason()),
                        Evidence.NONE, statement == null ? null : statement.signerName(), null));
            }
        });
        return new Outcome.No<>(refused);
    }

    private EnrollmentResult enrollWithToken(ParsedCsr csr, ChannelProof.Token proof, StatementProof.Verified statement) {
        if (!proof.deviceId().equals(csr.deviceId())) {
            return refuse(csr.deviceId(), new Refused(FailureCode.SUBJECT_MISMATCH, "the CSR's CN '"
                    + csr.deviceId() + "' is not the authenticated device '" + CsrChecker.printable(proof.deviceId()) + "'"));
        }
        Optional<Device> device = devices.find(csr.deviceId());
        if (device.isEmpty()) {
            return unknownDevice(csr.deviceId());
        }
        Optional<EnrollmentToken> stored = tokens.find(csr.deviceId());
        String presented = Digests.sha256Hex(proof.secret());
        if (stored.isEmpty() || !Digests.sameDigest(stored.get().tokenSha256(), presented)) {
            return refuse(csr.deviceId(), new Refused(FailureCode.NOT_AUTHENTICATED,
                    "the enrollment token is not valid for device '" + csr.deviceId() + "'"));
        }
        if (device.get().status() == DeviceStatus.REVOKED) {
            return revoked(csr.deviceId());
        }
        EnrollmentToken token = stored.get();
        if (token.usedAt() != null) {
            // A retry after a lost response: same token, same key → the certificate it already bought.
            Optional<IssuedCertificate> earlier = token.usedSerial() == null ? Optional.empty()
                    : certificates.find(token.usedSerial());
            if (earlier.isPresent() && earlier.get().publicKeySha256().equals(csr.publicKeySha256())
                    && earlier.get().status() == CertificateStatus.GOOD) {
                return repeated(earlier.get());
            }
            return refuse(csr.deviceId(), new Refused(FailureCode.TOKEN_USED, "the enrollment token of device '"
                    + csr.deviceId() + "' was already used; ask a fleet manager for a new one"));
        }
        if (!clock.instant().isBefore(token.expiresAt())) {
            return refuse(csr.deviceId(), new Refused(FailureCode.TOKEN_EXPIRED, "the enrollment token of device '"
                    + csr.deviceId() + "' expired at " + token.expiresAt() + "; ask a fleet manager for a new one"));
        }
        EnrollmentGroup group = groupOf(device.get());
        if (statement != null) {
            // Next to a token, evidence counts only when signed by the device itself: a factory
            // identity of its own group, or its current Fleetkey certificate.
            List<X509Certificate> signer = statement.signer().chain();
            Optional<String> problem;
            if (isIssuedByUs(statement.signer())) {
                problem = screenClientChain(signer).map(ChainRefusal::reason);
            } else {
                problem = group.makerCas().isEmpty() ? Optional.of("group '" + group.name() + "' has no maker CA")
                        : chains.verify(signer, group.makerCas(), clock.instant());
                if (problem.isEmpty()) {
                    problem = MakerRevocations.check(signer, group.makerCrls());
                }
            }
            if (problem.isEmpty() && !chainNamesDevice(signer, csr.deviceId())) {
                problem = Optional.of("it names another device than '" + csr.deviceId() + "'");
            }
            if (problem.isPresent()) {
                return refuse(csr.deviceId(), new Refused(FailureCode.UNTRUSTED_CLIENT_CERTIFICATE, "the device "
                        + "statement's signer " + statement.signerName() + " is not a factory identity of group '"
                        + group.name() + "': " + problem.get()));
            }
        }
        return authorizeAndIssue(csr, device.get(), group, token.tokenSha256(), "token", statement);
    }

    private EnrollmentResult enrollWithFactoryIdentity(ParsedCsr csr, ChannelProof.ClientCertificate proof,
                                                       StatementProof.Verified statement) {
        Optional<Device> device = devices.find(csr.deviceId());
        if (device.isEmpty()) {
            return unknownDevice(csr.deviceId());
        }
        EnrollmentGroup group = groupOf(device.get());
        if (group.makerCas().isEmpty()) {
            return refuse(csr.deviceId(), new Refused(FailureCode.UNTRUSTED_CLIENT_CERTIFICATE,
                    "group '" + group.name() + "' has no maker CA registered, so factory certificates are not "
                            + "accepted; a fleet manager can add one with PATCH /api/v1/groups/" + group.name()));
        }
        Optional<String> chainProblem = chains.verify(proof.chain(), group.makerCas(), clock.instant());
        if (chainProblem.isEmpty()) {
            chainProblem = MakerRevocations.check(proof.chain(), group.makerCrls());
        }
        if (chainProblem.isPresent()) {
            return refuse(csr.deviceId(), new Refused(FailureCode.UNTRUSTED_CLIENT_CERTIFICATE,
                    "the client certificate '" + proof.leaf().getSubjectX500Principal().getName()
                            + "' is not a factory identity of group '" + group.name() + "': " + chainProblem.get()));
        }
        if (!factoryIdentityNames(proof.leaf()).contains(csr.deviceId())) {
            return refuse(csr.deviceId(), new Refused(FailureCode.SUBJECT_MISMATCH, "the factory certificate '"
                    + proof.leaf().getSubjectX500Principal().getName() + "' names neither in its CN nor in its "
                    + "serialNumber the device '" + csr.deviceId() + "' the CSR asks for"));
        }
        if (device.get().status() == DeviceStatus.REVOKED) {
            return revoked(csr.deviceId());
        }
        Optional<IssuedCertificate> earlier = recentCertificateForKey(csr);
        if (earlier.isPresent()) {
            return repeated(earlier.get());
        }
        return authorizeAndIssue(csr, device.get(), group, null, "factory certificate "
                + proof.leaf().getSerialNumber().toString(16), statement);
    }

    private EnrollmentResult renew(ParsedCsr csr, ChannelProof.ClientCertificate proof, StatementProof.Verified statement) {
        Optional<String> chainProblem = chains.verify(proof.chain(),
                List.of(authority.chain().get(0)), clock.instant());
        if (chainProblem.isPresent()) {
            return refuse(csr.deviceId(), new Refused(FailureCode.UNTRUSTED_CLIENT_CERTIFICATE,
                    "the client certificate cannot authenticate a renewal: " + chainProblem.get()));
        }
        String serial = proof.leaf().getSerialNumber().toString(16);
        Optional<IssuedCertificate> current = certificates.find(serial);
        if (current.isEmpty() || current.get().deviceId() == null) {
            return refuse(csr.deviceId(), new Refused(FailureCode.UNTRUSTED_CLIENT_CERTIFICATE,
                    "the client certificate " + serial + " is not a device certificate in the registry"));
        }
        String deviceId = current.get().deviceId();
        if (current.get().status() == CertificateStatus.REVOKED) {
            return revoked(deviceId);
        }
        Device device = devices.find(deviceId).orElseThrow();
        if (device.status() == DeviceStatus.REVOKED) {
            return revoked(deviceId);
        }
        if (!deviceId.equals(csr.deviceId())) {
            // RFC 7030 §4.2.2: the subject of a re-enrollment is that of the current certificate.
            return refuse(csr.deviceId(), new Refused(FailureCode.SUBJECT_MISMATCH, "the CSR's CN '"
                    + csr.deviceId() + "' differs from the authenticated device '" + deviceId + "'"));
        }
        Optional<IssuedCertificate> earlier = recentCertificateForKey(csr);
        if (earlier.isPresent() && !earlier.get().serialHex().equals(serial)) {
            return repeated(earlier.get());
        }
        EnrollmentGroup group = groupOf(device);
        Gate gate = attest(csr, device, group, statement, "renew");
        if (gate instanceof Gate.Stop stop) {
            return stop.result();
        }
        return issue(csr, device, group, null, "certificate " + serial, true, (Gate.Go) gate,
                statement == null ? null : statement.nonce());
    }

    /** Group policy and approval for a first enrollment, then issuance. */
    private EnrollmentResult authorizeAndIssue(ParsedCsr csr, Device device, EnrollmentGroup group, String tokenSha256,
                                               String authenticatedBy, StatementProof.Verified statement) {
        Gate gate = attest(csr, device, group, statement, "enroll");
        if (gate instanceof Gate.Stop stop) {
            return stop.result();
        }
        if (group.requireApproval() && device.status() != DeviceStatus.ENROLLED
                && !csr.publicKeySha256().equals(device.approvedKeySha256())) {
            Refused policy = checkPolicy(csr, group, group.profile());
            if (policy != null) {
                return refuse(csr.deviceId(), policy);
            }
            return hold(csr, device, null, "waits for a fleet manager's approval");
        }
        return issue(csr, device, group, tokenSha256, authenticatedBy, false, (Gate.Go) gate,
                statement == null ? null : statement.nonce());
    }

    /**
     * Holds the request until a fleet manager approves the CSR's key; the device asks again
     * after Retry-After and is issued once the key is approved.
     *
     * @param appraisal recorded in the same transaction, when attestation is why it waits; or null
     */
    private EnrollmentResult hold(ParsedCsr csr, Device device, AttestationRecord appraisal, String why) {
        // An enrolled device whose renewal waits stays enrolled: its current certificate still works.
        DeviceStatus waitingStatus = device.status() == DeviceStatus.ENROLLED ? DeviceStatus.ENROLLED
                : DeviceStatus.PENDING_APPROVAL;
        boolean waiting = transactions.inTransaction(() -> {
            if (!devices.updateStatus(device.deviceId(), waitingStatus)) {
                return false; // revoked since it was read
            }
            if (appraisal != null) {
                attestations.append(appraisal);
            }
            if (!csr.publicKeySha256().equals(device.pendingKeySha256()) || device.status() != waitingStatus) {
                devices.setPendingKey(device.deviceId(), csr.publicKeySha256());
                audit.append(new AuditEvent(clock.instant(), "device:" + device.deviceId(), "enrollment.pending",
                        device.deviceId(), device.deviceId(), AuditLog.PENDING, "waiting for approval of key " + csr.publicKeySha256()
                        + (appraisal == null ? "" : ", attestation " + appraisal.result().label() + ": "
                        + String.join("; ", appraisal.reasons()))));
            }
            return true;
        });
        if (!waiting) {
            return revoked(device.deviceId());
        }
        return new Pending(settings.approvalRetryAfter(), "device '" + device.deviceId() + "' " + why);
    }

    /** Whether attestation lets a request go on (and with which profile), or its answer. */
    private sealed interface Gate {
        /** Go on; {@code appraisal} is recorded with the certificate, {@code profile} overrides the group's. */
        record Go(AttestationRecord appraisal, String profile) implements Gate {
        }

        record Stop(EnrollmentResult result) implements Gate {
        }
    }

    private static final Gate.Go GO = new Gate.Go(null, null);

    /**
     * The group's attestation policy, applied to an authenticated request: appraise the evidence
     * against the group's reference values, keep the result, and decide. Renewals re-attest, so a
     * device whose firmware digest was withdrawn fails its next renewal and shows up as contraindicated.
     */
    private Gate attest(ParsedCsr csr, Device device, EnrollmentGroup group, StatementProof.Verified statement,
                        String operation) {
        AttestationPolicy policy = group.attestation();
        if (policy.mode() == AttestationPolicy.Mode.OFF) {
            return GO;
        }
        Instant now = clock.instant();
        if (statement == null || (policy.requireNonce() && statement.nonce() == null)) {
            boolean flagged = device.attestation() == AttestationResult.CONTRAINDICATED;
            if (statement == null && policy.mode() == AttestationPolicy.Mode.OPTIONAL && !flagged) {
                return GO;
            }
            String reason = statement == null && flagged && policy.mode() == AttestationPolicy.Mode.OPTIONAL
                    ? "device '" + device.deviceId() + "' last showed contraindicated evidence, so group '"
                            + group.name() + "' requires evidence from it again: put a device statement (EAT) in the CSR"
                    : statement == null
                    ? "group '" + group.name() + "' requires evidence: put a device statement (EAT) signed by the "
                            + "device's factory identity or current certificate in the CSR's attestation attribute"
                    : "group '" + group.name() + "' requires a fresh nonce in the evidence (eat_nonce): get one from "
                            + "the nonce operation (GET /.well-known/est/nonce) and sign it into the statement";
            attestations.append(new AttestationRecord(now, device.deviceId(), operation, AttestationResult.UNVERIFIED,
                    AttestationRecord.Decision.REFUSED, List.of(reason), Evidence.NONE,
                    statement == null ? null : statement.signerName(), null));
            return new Gate.Stop(refuse(device.deviceId(), new Refused(FailureCode.ATTESTATION_REQUIRED, reason)));
        }
        Evidence evidence = statement.claims().evidence();
        Appraisal appraisal = Appraiser.appraise(evidence, policy, group.name());
        java.util.function.Function<AttestationRecord.Decision, AttestationRecord> record = decision ->
                new AttestationRecord(now, device.deviceId(), operation, appraisal.result(), decision,
                        appraisal.reasons(), evidence, statement.signerName(), null);
        if (appraisal.result() == AttestationResult.AFFIRMING) {
            return new Gate.Go(record.apply(AttestationRecord.Decision.ISSUED), null);
        }
        if (appraisal.result() == AttestationResult.WARNING) {
            if (policy.onWarning() == AttestationPolicy.OnWarning.RESTRICT) {
                return new Gate.Go(record.apply(AttestationRecord.Decision.RESTRICTED), policy.restrictedProfile());
            }
            if (policy.onWarning() == AttestationPolicy.OnWarning.HOLD) {
                if (csr.publicKeySha256().equals(device.approvedKeySha256())) {
                    return new Gate.Go(record.apply(AttestationRecord.Decision.ISSUED), null);
                }
                return new Gate.Stop(hold(csr, device, record.apply(AttestationRecord.Decision.HELD),
                        "waits for a fleet manager's approval: attestation warning: "
                                + String.join("; ", appraisal.reasons())));
            }
        }
        AttestationRecord refused = record.apply(AttestationRecord.Decision.REFUSED);
        transactions.inTransaction(() -> {
            attestations.append(refused);
            audit.append(new AuditEvent(now, "device:" + device.deviceId(), "attestation.failed", device.deviceId(),
                    device.deviceId(), AuditLog.REFUSED, operation + " refused, attestation " + appraisal.result().label() + ": "
                            + String.join("; ", appraisal.reasons())));
            return null;
        });
        return new Gate.Stop(refuse(device.deviceId(), new Refused(FailureCode.ATTESTATION_FAILED, "attestation "
                + appraisal.result().label() + " for group '" + group.name() + "': "
                + String.join("; ", appraisal.reasons()))));
    }

    private EnrollmentResult issue(ParsedCsr csr, Device device, EnrollmentGroup group, String tokenSha256,
                                   String authenticatedBy, boolean renewal, Gate.Go attested, String nonce) {
        String profileName = attested.profile() != null ? attested.profile() : group.profile();
        Refused policy = checkPolicy(csr, group, profileName);
        if (policy != null) {
            return refuse(csr.deviceId(), policy);
        }
        CertificateProfile profile = profiles.find(profileName).orElseThrow();
        CertificateAuthority.LeafRequest leaf = new CertificateAuthority.LeafRequest(subjectFor(device.deviceId()),
                csr.publicKey(), profile.validity(), profile.extendedKeyUsages(), csr.dnsNames(), List.of());
        for (int attempt = 0; ; attempt++) {
            try {
                EnrollmentResult result;
                try {
                    result = transactions.inTransaction(() -> signAndRecord(csr, device, profile, leaf,
                            tokenSha256, authenticatedBy, renewal, attested.appraisal(), nonce));
                } catch (RolledBack e) {
                    result = e.refused;
                }
                if (result instanceof Refused r && r.code() == FailureCode.TOKEN_USED) {
                    // A concurrent request spent the token first; if it was this same CSR, answer as a retry.
                    return tokens.find(device.deviceId()).map(EnrollmentToken::usedSerial).flatMap(certificates::find)
                            .filter(c -> c.publicKeySha256().equals(csr.publicKeySha256()))
                            .<EnrollmentResult>map(this::repeated).orElseGet(() -> refuse(device.deviceId(), r));
                }
                return result instanceof Refused r ? refuse(device.deviceId(), r) : result;
            } catch (DuplicateKeyException e) {
                if (attempt >= 2) {
                    throw e;
                }
                // A 127-bit serial collided (or a concurrent insert raced): draw a new one.
            }
        }
    }

    /** A refusal decided inside the issuing transaction: thrown so that nothing of it is kept (no spent nonce). */
    private static final class RolledBack extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Refused refused;

        RolledBack(Refused refused) {
            super(refused.reason(), null, false, false);
            this.refused = refused;
        }
    }

    /** Runs inside one transaction: nothing leaves unless all of it commits, and a refusal keeps nothing. */
    private EnrollmentResult signAndRecord(ParsedCsr csr, Device device, CertificateProfile profile,
                                           CertificateAuthority.LeafRequest leaf, String tokenSha256,
                                           String authenticatedBy, boolean renewal, AttestationRecord appraisal,
                                           String nonce) {
        Instant now = clock.instant();
        BigInteger serial = CertificateAuthority.newSerialNumber();
        String serialHex = serial.toString(16);
        if (nonce != null) {
            // Before anything is written: a nonce a concurrent request spent first refuses this one.
            Optional<String> stale = nonces.spend(nonce, csr.publicKeySha256());
            if (stale.isPresent()) {
                throw new RolledBack(new Refused(FailureCode.STALE_EVIDENCE, stale.get()));
            }
        }
        // First, and always: this takes the device row's lock, so a revocation either waits for this
        // commit and revokes the new certificate too, or has committed and the issuance stops here.
        if (!devices.updateStatus(device.deviceId(), DeviceStatus.ENROLLED)) {
            throw new RolledBack(revokedRefusal(device.deviceId()));
        }
        if (tokenSha256 != null && !tokens.spend(device.deviceId(), tokenSha256, now, serialHex)) {
            throw new RolledBack(new Refused(FailureCode.TOKEN_USED, "the enrollment token of device '"
                    + device.deviceId() + "' was used by a concurrent request"));
        }
        if (device.approvedKeySha256() != null || device.pendingKeySha256() != null) {
            // An approval is good for the request it was given for, not for every later warning with that key.
            devices.setApprovedKey(device.deviceId(), null);
            devices.setPendingKey(device.deviceId(), null);
        }
        X509Certificate certificate = authority.issue(leaf, serial, now);
        certificates.insert(new IssuedCertificate(serialHex, device.deviceId(),
                certificate.getSubjectX500Principal().getName(), profile.name(), csr.publicKeySha256(),
                certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant(), now,
                CertificateStatus.GOOD, null, null, io.fleetkey.protocol.Certificates.toDer(certificate)));
        if (appraisal != null) {
            attestations.append(new AttestationRecord(appraisal.appraisedAt(), appraisal.deviceId(),
                    appraisal.operation(), appraisal.result(), appraisal.decision(), appraisal.reasons(),
                    appraisal.evidence(), appraisal.signer(), serialHex));
        }
        audit.append(new AuditEvent(now, "device:" + device.deviceId(), renewal ? "certificate.renewed" : "certificate.issued",
                device.deviceId(), "serial " + serialHex + ", profile " + profile.name() + ", authenticated by "
                + authenticatedBy + (appraisal == null ? "" : ", attestation " + appraisal.result().label())));
        LOG.info("Issued certificate {} to device {} (profile {}, {})", serialHex, device.deviceId(),
                profile.name(), renewal ? "renewal" : "enrollment");
        return new Issued(certificate, authority.chain(), false);
    }

    /** Profile key rules and group DNS policy; null when the CSR is allowed. */
    private Refused checkPolicy(ParsedCsr csr, EnrollmentGroup group, String profileName) {
        CertificateProfile profile = profiles.find(profileName).orElse(null);
        if (profile == null) {
            return new Refused(FailureCode.POLICY_VIOLATION, "group '" + group.name() + "' names profile '"
                    + profileName + "', which is not configured");
        }
        Optional<String> keyProblem = csrChecker.checkKeyForProfile(csr, profile);
        if (keyProblem.isPresent()) {
            return new Refused(FailureCode.KEY_NOT_ALLOWED, keyProblem.get());
        }
        if (!csr.dnsNames().isEmpty()) {
            if (!profile.allowDnsNames()) {
                return new Refused(FailureCode.POLICY_VIOLATION, "profile '" + profile.name()
                        + "' does not allow DNS names; remove the subjectAltName from the CSR");
            }
            for (String name : csr.dnsNames()) {
                if (!group.allowsDnsName(name)) {
                    return new Refused(FailureCode.POLICY_VIOLATION, "DNS name '" + CsrChecker.printable(name)
                            + "' is not allowed for group '" + group.name() + "' (allowed: " + group.allowedDnsNames() + ")");
                }
            }
        }
        return null;
    }

    private EnrollmentGroup groupOf(Device device) {
        return groups.find(device.group()).orElseThrow(() -> new IllegalStateException(
                "device " + device.deviceId() + " names group " + device.group() + ", which does not exist"));
    }

    private Optional<IssuedCertificate> recentCertificateForKey(ParsedCsr csr) {
        if (settings.retryWindow().isZero()) {
            return Optional.empty();
        }
        Instant since = clock.instant().minus(settings.retryWindow());
        return certificates.forDevice(csr.deviceId()).stream()
                .filter(c -> c.status() == CertificateStatus.GOOD)
                .filter(c -> c.publicKeySha256().equals(csr.publicKeySha256()))
                .filter(c -> c.issuedAt().isAfter(since))
                .findFirst();
    }

    private boolean isIssuedByUs(ChannelProof.ClientCertificate proof) {
        return proof.leaf().getIssuerX500Principal().equals(authority.chain().get(0).getSubjectX500Principal());
    }

    /** The device ids a factory certificate (IDevID) names: its CN and serialNumber attributes. */
    private static java.util.Set<String> factoryIdentityNames(X509Certificate idevid) {
        X500Name subject = X500Name.getInstance(idevid.getSubjectX500Principal().getEncoded());
        java.util.Set<String> names = new java.util.HashSet<>();
        for (var oid : new ASN1ObjectIdentifier[]{BCStyle.CN, BCStyle.SERIALNUMBER}) {
            for (var rdn : subject.getRDNs(oid)) {
                names.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
            }
        }
        return names;
    }

    private EnrollmentResult repeated(IssuedCertificate earlier) {
        LOG.info("Returning certificate {} again to device {}: repeated request with the same key",
                earlier.serialHex(), earlier.deviceId());
        return new Issued(io.fleetkey.protocol.Certificates.fromDer(earlier.der()), authority.chain(), true);
    }

    private EnrollmentResult unknownDevice(String deviceId) {
        return refuse(deviceId, new Refused(FailureCode.UNKNOWN_DEVICE, "device '" + deviceId
                + "' is not registered; a fleet manager registers it with POST /api/v1/devices"));
    }

    private EnrollmentResult revoked(String deviceId) {
        return refuse(deviceId, revokedRefusal(deviceId));
    }

    private static Refused revokedRefusal(String deviceId) {
        return new Refused(FailureCode.DEVICE_REVOKED, "device '" + deviceId + "' is revoked and cannot enroll");
    }

    private static EnrollmentResult refuse(String deviceId, Refused refused) {
        RejectedTraffic.log(deviceId, refused);
        return refused;
    }

    private static X500Name subjectFor(String deviceId) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    }

    private static byte[] encodeCsrAttributes() {
        // RFC 7030 §4.5.2: ask for ECDSA with SHA-256 over a P-256 key.
        CsrAttrs attrs = new CsrAttrs(new AttrOrOID[]{
            new AttrOrOID(X9ObjectIdentifiers.ecdsa_with_SHA256),
            new AttrOrOID(new Attribute(X9ObjectIdentifiers.id_ecPublicKey, new DERSet(SECObjectIdentifiers.secp256r1)))
        });
        try {
            return attrs.getEncoded("DER");
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode CSR attributes", e);
        }
    }
}
