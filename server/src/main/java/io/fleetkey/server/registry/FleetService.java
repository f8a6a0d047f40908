package io.fleetkey.server.registry;

import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import io.fleetkey.protocol.DeviceIds;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.server.events.DeviceNotice;
import io.fleetkey.server.policy.ProfileCatalog;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.util.Digests;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What fleet managers do to groups and devices: the transport-neutral half of the admin API.
 * Every change is audited with the acting API token's name. Thread-safe.
 */
public final class FleetService {
    private static final Logger LOG = LoggerFactory.getLogger(FleetService.class);
    /** Largest batch of one bulk registration. */
    public static final int MAX_BULK = 10_000;
    /** Longest free-text note of a revocation. */
    public static final int MAX_NOTE = 500;
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern DNS_PATTERN = Pattern.compile("(\\*\\.)?([A-Za-z0-9-]{1,63}\\.)*[A-Za-z0-9-]{1,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final GroupRepository groups;
    private final DeviceRepository devices;
    private final TokenRepository tokens;
    private final CertificateRepository certificates;
    private final AuditLog audit;
    private final Transactions transactions;
    private final ProfileCatalog profiles;
    private final Clock clock;
    private final Duration tokenValidity;
    private final Consumer<DeviceRevoked> revocations;
    private final Consumer<DeviceNotice> notices;
    private final AttestationHistory attestations;

    /**
     * @param revocations told of each committed revocation (see {@link DeviceRevoked})
     * @param notices     told of what devices should hear (revoked, renew now), after the change is committed
     */
    public FleetService(GroupRepository groups, DeviceRepository devices, TokenRepository tokens,
                        CertificateRepository certificates, AuditLog audit, Transactions transactions,
                        ProfileCatalog profiles, Clock clock, Duration tokenValidity,
                        Consumer<DeviceRevoked> revocations, Consumer<DeviceNotice> notices,
                        AttestationHistory attestations) {
        this.groups = groups;
        this.devices = devices;
        this.tokens = tokens;
        this.certificates = certificates;
        this.audit = audit;
        this.transactions = transactions;
        this.profiles = profiles;
        this.clock = clock;
        this.tokenValidity = tokenValidity;
        this.revocations = revocations;
        this.notices = notices;
        this.attestations = attestations;
    }

    /** A newly registered device and its one-time token, shown this once and stored only as a hash. */
    public record Registration(String deviceId, String group, String enrollmentToken, Instant tokenExpiresAt) {
        @Override
        public String toString() {
            return "Registration[deviceId=" + deviceId + ", group=" + group + "]";
        }
    }

    /** A device with its certificate history (newest first) and recent audit events. */
    public record DeviceDetail(Device device, List<IssuedCertificate> certificates, List<AuditEvent> events) {
    }

    /** A committed revocation: the device as it is now, and what was revoked. */
    public record Revocation(Device device, DeviceRevoked revoked) {
    }

    /** Changes to a group; a null field stays as it is. {@code makerCrls} replaces the group's maker CRLs. */
    public record GroupChange(String profile, List<X509Certificate> makerCas, Boolean requireApproval,
                              List<String> allowedDnsNames, List<X509CRL> makerCrls) {
        public GroupChange(String profile, List<X509Certificate> makerCas, Boolean requireApproval,
                           List<String> allowedDnsNames) {
            this(profile, makerCas, requireApproval, allowedDnsNames, null);
        }
    }

    /**
     * Changes to a group's attestation policy; a null field stays as it is, an empty
     * {@code minimumVersion} removes the minimum.
     */
    public record AttestationChange(AttestationPolicy.Mode mode, AttestationPolicy.OnWarning onWarning,
                                    Boolean requireNonce, String restrictedProfile, List<String> allowedModels,
                                    String minimumVersion, Boolean debugAllowed) {
    }

    public EnrollmentGroup createGroup(String name, GroupChange settings, String actor) {
        if (name == null || !GROUP_NAME.matcher(name).matches()) {
            throw new FleetException(FleetException.Kind.INVALID,
                    "group name must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'");
        }
        String profile = settings.profile() == null ? "device" : settings.profile();
        EnrollmentGroup group = validated(new EnrollmentGroup(name, profile,
                settings.makerCas() == null ? List.of() : settings.makerCas(),
                settings.requireApproval() != null && settings.requireApproval(),
                settings.allowedDnsNames() == null ? List.of() : settings.allowedDnsNames(), clock.instant(),
                settings.makerCrls() == null ? List.of() : settings.makerCrls(), AttestationPolicy.DEFAULT));
        try {
            transactions.inTransaction(() -> {
                groups.insert(group);
                audit.append(new AuditEvent(clock.instant(), actor, "group.created", null, "group:" + name, AuditLog.OK,
                        "group " + name + ", profile " + profile + ", " + group.makerCas().size() + " maker CA(s)"));
                return null;
            });
        } catch (DuplicateKeyException e) {
            throw new FleetException(FleetException.Kind.CONFLICT, "group '" + name + "' already exists");
        }
        return group;
    }

    public EnrollmentGroup updateGroup(String name, GroupChange change, String actor) {
        EnrollmentGroup old = group(name);
        EnrollmentGroup updated = validated(new EnrollmentGroup(name,
                change.profile() != null ? change.profile() : old.profile(),
                change.makerCas() != null ? change.makerCas() : old.makerCas(),
                change.requireApproval() != null ? change.requireApproval() : old.requireApproval(),
                change.allowedDnsNames() != null ? change.allowedDnsNames() : old.allowedDnsNames(),
                old.createdAt(), change.makerCrls() != null ? change.makerCrls() : old.makerCrls(), old.attestation()));
        transactions.inTransaction(() -> {
            groups.update(updated);
            audit.append(new AuditEvent(clock.instant(), actor, "group.updated", null, "group:" + name, AuditLog.OK, "group " + name
                    + ", profile " + updated.profile() + ", " + updated.makerCas().size() + " maker CA(s), "
                    + updated.makerCrls().size() + " maker CRL(s), approval "
                    + (updated.requireApproval() ? "required" : "not required")));
            return null;
        });
        return updated;
    }

    /** Changes a group's attestation mode, policy and reference values other than digests. */
    public EnrollmentGroup updateAttestation(String name, AttestationChange change, String actor) {
        EnrollmentGroup old = group(name);
        AttestationPolicy was = old.attestation();
        String minimum = change.minimumVersion() == null ? was.minimumVersion()
                : change.minimumVersion().isBlank() ? null : change.minimumVersion().strip();
        AttestationPolicy policy = new AttestationPolicy(
                change.mode() != null ? change.mode() : was.mode(),
                change.onWarning() != null ? change.onWarning() : was.onWarning(),
                change.requireNonce() != null ? change.requireNonce() : was.requireNonce(),
                change.restrictedProfile() != null ? change.restrictedProfile() : was.restrictedProfile(),
                change.allowedModels() != null ? change.allowedModels() : was.allowedModels(),
                minimum, change.debugAllowed() != null ? change.debugAllowed() : was.debugAllowed(),
                was.allowedDigests());
        checkPolicy(policy);
        EnrollmentGroup updated = new EnrollmentGroup(name, old.profile(), old.makerCas(), old.requireApproval(),
                old.allowedDnsNames(), old.createdAt(), old.makerCrls(), policy);
        transactions.inTransaction(() -> {
            groups.update(updated);
            audit.append(new AuditEvent(clock.instant(), actor, "group.attestation.updated", null, "group:" + name, AuditLog.OK, "group " + name
                    + ": mode " + policy.mode() + ", on warning " + policy.onWarning() + ", nonce "
                    + (policy.requireNonce() ? "required" : "optional") + ", restricted profile "
                    + policy.restrictedProfile() + ", models " + policy.allowedModels() + ", minimum version "
                    + policy.minimumVersion() + ", debug " + (policy.debugAllowed() ? "allowed" : "must be disabled")));
            return null;
        });
        return group(name);
    }

    /** Allows one more digest for a measured component of a group's devices. */
    public EnrollmentGroup addDigest(String name, String component, String sha256, String note, String actor) {
        group(name);
        String digest = checkedDigest(component, sha256);
        String cleanNote = checkedNote(note);
        if (cleanNote != null && cleanNote.length() > 200) {
            throw new FleetException(FleetException.Kind.INVALID, "a digest's note holds at most 200 characters");
        }
        transactions.inTransaction(() -> {
            if (!groups.addDigest(name, new AttestationPolicy.AllowedDigest(component, digest,
                    clock.instant().truncatedTo(ChronoUnit.MICROS), cleanNote))) {
                throw new FleetException(FleetException.Kind.CONFLICT, "group '" + name + "' already allows digest "
                        + digest + " for component '" + component + "'");
            }
            audit.append(new AuditEvent(clock.instant(), actor, "group.digest.added", null, "group:" + name, AuditLog.OK, "group " + name
                    + ", component " + component + ", sha256 " + digest + (cleanNote == null ? "" : ", note: " + cleanNote)));
            return null;
        });
        return group(name);
    }

    /**
     * Withdraws an allowed digest: devices still reporting it fail their next enrollment or
     * renewal as contraindicated, also when it was the component's last allowed digest.
     */
    public EnrollmentGroup removeDigest(String name, String component, String sha256, String actor) {
        group(name);
        String digest = checkedDigest(component, sha256);
        transactions.inTransaction(() -> {
            if (!groups.withdrawDigest(name, component, digest, clock.instant().truncatedTo(ChronoUnit.MICROS))) {
                throw new FleetException(FleetException.Kind.NOT_FOUND, "group '" + name + "' does not allow digest "
                        + digest + " for component '" + component + "'");
            }
            audit.append(new AuditEvent(clock.instant(), actor, "group.digest.withdrawn", null, "group:" + name, AuditLog.OK, "group " + name
                    + ", component " + component + ", sha256 " + digest));
            return null;
        });
        return group(name);
    }

    /** A device's appraisals, newest first. */
    public Page<AttestationRecord> attestationHistory(String deviceId, int page, int size) {
        device(deviceId);
        return attestations.of(deviceId, page, size);
    }

    private void checkPolicy(AttestationPolicy policy) {
        if (profiles.find(policy.restrictedProfile()).isEmpty()) {
            throw new FleetException(FleetException.Kind.INVALID, "restricted profile '" + policy.restrictedProfile()
                    + "' is not configured; configured profiles: " + profiles.names());
        }
        for (String model : policy.allowedModels()) {
            int bytes = model.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes == 0 || bytes > 32 || !model.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f)) {
                throw new FleetException(FleetException.Kind.INVALID, "model '" + model + "' must be 1 to 32 printable "
                        + "ASCII characters, as devices report it in hwmodel");
            }
        }
        if (policy.minimumVersion() != null && !policy.minimumVersion().matches("\\d{1,9}(\\.\\d{1,9}){0,7}")) {
            throw new FleetException(FleetException.Kind.INVALID, "minimum version '" + policy.minimumVersion()
                    + "' must be numbers separated by dots, e.g. 2.4.0");
        }
    }

    private static String checkedDigest(String component, String sha256) {
        if (component == null || !Evidence.COMPONENT_NAME.matcher(component).matches()) {
            throw new FleetException(FleetException.Kind.INVALID, "component must be 1 to 64 characters from "
                    + "A-Z a-z 0-9 . _ : / + -, e.g. firmware");
        }
        String digest = sha256 == null ? "" : sha256.strip().toLowerCase(java.util.Locale.ROOT);
        if (!digest.matches("[0-9a-f]{64}")) {
            throw new FleetException(FleetException.Kind.INVALID, "sha256 must be a SHA-256 digest in hex (64 digits), "
                    + "e.g. the output of sha256sum");
        }
        return digest;
    }

    public EnrollmentGroup group(String name) {
        return groups.find(name).orElseThrow(() -> new FleetException(FleetException.Kind.NOT_FOUND,
                "group '" + name + "' does not exist"));
    }

    public List<EnrollmentGroup> groups() {
        return groups.list();
    }

    /** Registers devices all together or not at all, each with a fresh one-time token. */
    public List<Registration> register(List<String> deviceIds, String groupName, String actor) {
        if (deviceIds.isEmpty()) {
            throw new FleetException(FleetException.Kind.INVALID, "no device to register");
        }
        if (deviceIds.size() > MAX_BULK) {
            throw new FleetException(FleetException.Kind.INVALID, "at most " + MAX_BULK
                    + " devices can be registered in one request; split the batch");
        }
        group(groupName);
        Set<String> seen = new HashSet<>();
        for (String id : deviceIds) {
            if (!DeviceIds.isValid(id)) {
                throw new FleetException(FleetException.Kind.INVALID, "device id '" + String.valueOf(id)
                        + "' is not valid: " + DeviceIds.rule());
            }
            if (!seen.add(id)) {
                throw new FleetException(FleetException.Kind.INVALID, "device id '" + id + "' appears twice");
            }
        }
        Instant now = clock.instant();
        Instant expires = now.plus(tokenValidity);
        List<Device> newDevices = new ArrayList<>();
        List<Registration> registrations = new ArrayList<>();
        for (String id : deviceIds) {
            newDevices.add(new Device(id, groupName, DeviceStatus.REGISTERED, null, null, now, now));
            registrations.add(new Registration(id, groupName, newToken(), expires));
        }
        try {
            transactions.inTransaction(() -> {
                devices.insertAll(newDevices);
                for (Registration r : registrations) {
                    tokens.put(new EnrollmentToken(r.deviceId(), Digests.sha256Hex(r.enrollmentToken()), expires, null, null));
                    audit.append(new AuditEvent(now, actor, "device.registered", r.deviceId(), "group " + groupName));
                }
                return null;
            });
        } catch (DuplicateKeyException e) {
            List<String> existing = deviceIds.stream().filter(id -> devices.find(id).isPresent()).limit(10).toList();
            throw new FleetException(FleetException.Kind.CONFLICT, "already registered: " + existing
                    + (existing.size() == 10 ? " and more" : "") + "; nothing was registered");
        }
        return registrations;
    }

    /** A new one-time token for a device that has not enrolled yet (the old one stops working). */
    public Registration newEnrollmentToken(String deviceId, String actor) {
        Device device = device(deviceId);
        if (device.status() == DeviceStatus.REVOKED) {
            throw new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId + "' is revoked");
        }
        Instant now = clock.instant();
        Registration r = new Registration(deviceId, device.group(), newToken(), now.plus(tokenValidity));
        transactions.inTransaction(() -> {
            tokens.put(new EnrollmentToken(deviceId, Digests.sha256Hex(r.enrollmentToken()), r.tokenExpiresAt(), null, null));
            audit.append(new AuditEvent(now, actor, "device.token-issued", deviceId, "expires " + r.tokenExpiresAt()));
            return null;
        });
        return r;
    }

    /** Approves the key a device is waiting with; its next request with that key is issued. */
    public Device approve(String deviceId, String actor) {
        Device device = device(deviceId);
        // An enrolled device may wait too: for a renewal held on an attestation warning.
        if ((device.status() != DeviceStatus.PENDING_APPROVAL && device.status() != DeviceStatus.ENROLLED)
                || device.pendingKeySha256() == null) {
            throw new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId
                    + "' is not waiting for approval (status " + device.status() + ")");
        }
        if (device.pendingKeySha256().equals(device.approvedKeySha256()) && device.status() == DeviceStatus.ENROLLED) {
            throw new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId
                    + "' is not waiting for approval (status " + device.status() + ")");
        }
        if (device.pendingKeySha256().equals(device.approvedKeySha256())) {
            throw new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId
                    + "' is already approved and has yet to ask again with key " + device.pendingKeySha256());
        }
        transactions.inTransaction(() -> {
            devices.setApprovedKey(deviceId, device.pendingKeySha256());
            audit.append(new AuditEvent(clock.instant(), actor, "device.approved", deviceId,
                    "key " + device.pendingKeySha256()));
            return null;
        });
        return device(deviceId);
    }

    /**
     * Revokes a device for good. In one transaction the device becomes REVOKED, each of its GOOD
     * certificates becomes REVOKED with the reason (RFC 5280 §5.3.1), and the audit log records
     * who did it and why. After the commit the revocation listener hears of it.
     *
     * @param note free text for the audit log, at most {@value #MAX_NOTE} characters, or null
     */
    public Revocation revoke(String deviceId, RevocationReason reason, String note, String actor) {
        Objects.requireNonNull(reason, "reason");
        String cleanNote = checkedNote(note);
        device(deviceId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS); // what the database keeps
        DeviceRevoked revoked = transactions.inTransaction(() -> revokeOne(deviceId, reason, cleanNote, now, actor)
                .orElseThrow(() -> new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId
                        + "' is already revoked" + devices.find(deviceId).map(d -> " since " + d.updatedAt()).orElse("")
                        + "; revocation is permanent, so a replacement needs a new device id")));
        announce(revoked);
        return new Revocation(device(deviceId), revoked);
    }

    /** Most sample ids a revocation by attribute shows. */
    public static final int REVOCATION_SAMPLE = 20;

    /**
     * What a revocation by attribute matched, and (unless a dry run) revoked.
     *
     * @param alreadyRevoked devices the filter matched that were revoked before; they are left alone
     * @param sample         up to {@value #REVOCATION_SAMPLE} of the matched device ids, sorted
     * @param revoked        the revocations made, one per device; empty on a dry run
     */
    public record BulkRevocation(boolean dryRun, int matched, int alreadyRevoked, List<String> sample,
                                 RevocationReason reason, List<DeviceRevoked> revoked) {
    }

    /**
     * Revokes every unrevoked device the filter matches, all in one transaction, each as
     * {@link #revoke} would; or, on a dry run, only says which. With {@code expectedCount}, a
     * matched set of another size (the fleet changed since the dry run) revokes nothing.
     */
    public BulkRevocation revokeMatching(RevocationFilter filter, RevocationReason reason, String note, boolean dryRun,
                                         Integer expectedCount, String actor) {
        Objects.requireNonNull(reason, "reason");
        String cleanNote = checkedNote(note);
        checked(filter);
        if (dryRun) {
            return bulk(true, devices.matching(filter), reason, List.of());
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        List<RevocationFilter.Candidate> candidates = new ArrayList<>();
        List<DeviceRevoked> revoked = transactions.inTransaction(() -> {
            candidates.addAll(devices.matching(filter));
            List<String> targets = candidates.stream().filter(c -> c.status() != DeviceStatus.REVOKED)
                    .map(RevocationFilter.Candidate::deviceId).toList();
            if (expectedCount != null && expectedCount != targets.size()) {
                throw new MatchCountChanged(targets.size(), expectedCount);
            }
            List<DeviceRevoked> done = new ArrayList<>();
            for (String deviceId : targets) {
                // A device revoked by someone else in the meantime is simply skipped.
                revokeOne(deviceId, reason, cleanNote, now, actor).ifPresent(done::add);
            }
            audit.append(new AuditEvent(now, actor, "devices.revoked-by-filter", null, "reason " + reason.rfcName()
                    + ", " + done.size() + " device(s) revoked, filter " + describe(filter)
                    + (cleanNote == null ? "" : ", note: " + cleanNote)));
            return done;
        });
        LOG.info("Revoked {} device(s) matching {} ({})", revoked.size(), describe(filter), reason.rfcName());
        revoked.forEach(this::announce);
        return bulk(false, candidates, reason, revoked);
    }

    /** A revocation by attribute found another number of devices than the caller expected, and revoked none. */
    public static final class MatchCountChanged extends FleetException {
        private final int matched;

        MatchCountChanged(int matched, int expected) {
            super(Kind.CONFLICT, "the filter now matches " + matched + " device(s), not the " + expected
                    + " expected; nothing was revoked. Run the dry run again and check the sample");
            this.matched = matched;
        }

        public int matched() {
            return matched;
        }
    }

    private static BulkRevocation bulk(boolean dryRun, List<RevocationFilter.Candidate> candidates,
                                       RevocationReason reason, List<DeviceRevoked> revoked) {
        List<String> open = candidates.stream().filter(c -> c.status() != DeviceStatus.REVOKED)
                .map(RevocationFilter.Candidate::deviceId).toList();
        return new BulkRevocation(dryRun, open.size(), candidates.size() - open.size(),
                open.subList(0, Math.min(REVOCATION_SAMPLE, open.size())), reason, revoked);
    }

    private void checked(RevocationFilter filter) {
        if (filter == null || filter.isEmpty()) {
            throw new FleetException(FleetException.Kind.INVALID, "the filter is empty; give at least one of group, "
                    + "digest, swVersion, enrolledFrom, enrolledTo, deviceIds (to revoke one device, use its revoke call)");
        }
        if (filter.group() != null) {
            group(filter.group()); // 404 for a group that does not exist, rather than "0 matched"
        }
        if (filter.sha256() != null && !filter.sha256().matches("[0-9a-f]{64}")) {
            throw new FleetException(FleetException.Kind.INVALID, "digest.sha256 must be 64 lower-case hex digits");
        }
        if (filter.component() != null && filter.sha256() == null) {
            throw new FleetException(FleetException.Kind.INVALID, "digest needs sha256 as well as component");
        }
        if (filter.enrolledFrom() != null && filter.enrolledTo() != null
                && !filter.enrolledFrom().isBefore(filter.enrolledTo())) {
            throw new FleetException(FleetException.Kind.INVALID, "enrolledFrom must be before enrolledTo");
        }
        if (filter.deviceIds() != null) {
            if (filter.deviceIds().isEmpty() || filter.deviceIds().size() > MAX_BULK) {
                throw new FleetException(FleetException.Kind.INVALID, "deviceIds must list 1 to " + MAX_BULK
                        + " device ids, not " + filter.deviceIds().size() + "; split a larger list");
            }
            for (String id : filter.deviceIds()) {
                if (!DeviceIds.isValid(id)) {
                    throw new FleetException(FleetException.Kind.INVALID, "deviceIds: device id '"
                            + String.valueOf(id) + "' is not valid: " + DeviceIds.rule());
                }
            }
            // A listed id that is not registered is most likely a typo: say so rather than skip it.
            Set<String> missing = new java.util.TreeSet<>(filter.deviceIds());
            devices.matching(new RevocationFilter(null, null, null, null, null, null, filter.deviceIds()))
                    .forEach(c -> missing.remove(c.deviceId()));
            if (!missing.isEmpty()) {
                throw new FleetException(FleetException.Kind.NOT_FOUND, missing.size() + " listed device id(s) "
                        + "are not registered, e.g. " + missing.stream().limit(10).toList() + "; nothing was revoked");
            }
        }
    }

    private static String describe(RevocationFilter f) {
        List<String> parts = new ArrayList<>();
        if (f.group() != null) {
            parts.add("group=" + f.group());
        }
        if (f.sha256() != null) {
            parts.add("digest=" + (f.component() == null ? "" : f.component() + ":") + f.sha256());
        }
        if (f.swVersion() != null) {
            parts.add("swVersion=" + f.swVersion());
        }
        if (f.enrolledFrom() != null) {
            parts.add("enrolledFrom=" + f.enrolledFrom());
        }
        if (f.enrolledTo() != null) {
            parts.add("enrolledTo=" + f.enrolledTo());
        }
        if (f.deviceIds() != null) {
            parts.add(f.deviceIds().size() + " listed device id(s)");
        }
        return String.join(" ", parts);
    }

    /**
     * Revokes one device inside the caller's transaction: the device row first (its lock orders this
     * against a concurrent issuance), then its certificates, then the audit entry.
     *
     * @return empty if the device was revoked already
     */
    private Optional<DeviceRevoked> revokeOne(String deviceId, RevocationReason reason, String note, Instant now,
                                              String actor) {
        if (!devices.updateStatus(deviceId, DeviceStatus.REVOKED)) {
            return Optional.empty();
        }
        List<String> serials = certificates.revokeAllOf(deviceId, reason, now);
        audit.append(new AuditEvent(now, actor, "device.revoked", deviceId, "reason " + reason.rfcName()
                + ", " + serials.size() + " certificate(s) revoked " + serials
                + (note == null ? "" : ", note: " + note)));
        return Optional.of(new DeviceRevoked(deviceId, reason, note, now, serials));
    }

    /** After the commit: the listeners (CRL first, then whatever cuts live sessions) and the device's notice. */
    private void announce(DeviceRevoked revoked) {
        LOG.info("Revoked device {} ({}) and its certificates {}", revoked.deviceId(), revoked.reason().rfcName(),
                revoked.revokedSerials());
        try {
            revocations.accept(revoked);
        } catch (RuntimeException e) {
            LOG.error("A listener failed on the revocation of device {}; the revocation itself is committed",
                    revoked.deviceId(), e);
        }
        tell(new DeviceNotice(revoked.deviceId(), DeviceNotice.Kind.REVOKED, revoked.revokedAt(),
                revoked.reason().rfcName()));
    }

    /**
     * Asks an enrolled device to renew its certificate now (e.g. after a CA or profile change),
     * through the doors that can reach a device unasked (the MQTT events topic).
     */
    public Device requestRenewal(String deviceId, String actor) {
        Device device = device(deviceId);
        if (device.status() != DeviceStatus.ENROLLED) {
            throw new FleetException(FleetException.Kind.CONFLICT, "device '" + deviceId + "' is "
                    + device.status().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + "; only an enrolled device can renew");
        }
        Instant now = clock.instant();
        audit.append(new AuditEvent(now, actor, "device.renewal-requested", deviceId, null));
        tell(new DeviceNotice(deviceId, DeviceNotice.Kind.RENEW_NOW, now, "requested by " + actor));
        return device;
    }

    private void tell(DeviceNotice notice) {
        try {
            notices.accept(notice);
        } catch (RuntimeException e) {
            LOG.error("Could not hand on the {} notice of device {}", notice.kind(), notice.deviceId(), e);
        }
    }

    public Device device(String deviceId) {
        return devices.find(deviceId).orElseThrow(() -> new FleetException(FleetException.Kind.NOT_FOUND,
                "device '" + deviceId + "' is not registered"));
    }

    public DeviceDetail deviceDetail(String deviceId) {
        Device device = device(deviceId);
        return new DeviceDetail(device, certificates.forDevice(deviceId), audit.forDevice(deviceId, 50));
    }

    public Page<Device> devices(DeviceFilter filter, int page, int size) {
        if (page < 0 || size < 1 || size > 1000) {
            throw new FleetException(FleetException.Kind.INVALID, "page must be 0 or more and size 1 to 1000");
        }
        return devices.list(filter, page, size);
    }

    public Optional<IssuedCertificate> certificate(String serialHex) {
        return certificates.find(serialHex);
    }

    private EnrollmentGroup validated(EnrollmentGroup group) {
        if (profiles.find(group.profile()).isEmpty()) {
            throw new FleetException(FleetException.Kind.INVALID, "profile '" + group.profile()
                    + "' is not configured; configured profiles: " + profiles.names());
        }
        for (String dns : group.allowedDnsNames()) {
            if (!DNS_PATTERN.matcher(dns).matches() || dns.length() > 253) {
                throw new FleetException(FleetException.Kind.INVALID, "'" + dns
                        + "' is not a DNS name or *.suffix pattern");
            }
        }
        for (X509Certificate ca : group.makerCas()) {
            if (ca.getBasicConstraints() < 0) {
                throw new FleetException(FleetException.Kind.INVALID, "maker CA '"
                        + ca.getSubjectX500Principal().getName() + "' is not a CA certificate (basicConstraints cA is not set)");
            }
        }
        for (X509CRL crl : group.makerCrls()) {
            boolean signed = group.makerCas().stream().anyMatch(ca -> {
                if (!ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                    return false;
                }
                try {
                    crl.verify(ca.getPublicKey());
                    return true;
                } catch (java.security.GeneralSecurityException e) {
                    return false;
                }
            });
            if (!signed) {
                throw new FleetException(FleetException.Kind.INVALID, "the CRL of '"
                        + crl.getIssuerX500Principal().getName() + "' is not signed by a maker CA of the group; "
                        + "add the maker CA first, or send the CRL its maker published");
            }
        }
        return group;
    }

    private static String checkedNote(String note) {
        if (note == null || note.isBlank()) {
            return null;
        }
        if (note.length() > MAX_NOTE) {
            throw new FleetException(FleetException.Kind.INVALID, "the note has " + note.length()
                    + " characters; at most " + MAX_NOTE + " are kept");
        }
        // Line breaks and tabs are fine; other control characters would garble logs and notices.
        if (note.chars().anyMatch(ch -> Character.isISOControl(ch) && ch != '\n' && ch != '\r' && ch != '\t')) {
            throw new FleetException(FleetException.Kind.INVALID, "the note holds control characters; "
                    + "send plain text (line breaks and tabs are fine)");
        }
        return note.strip();
    }

    private static String newToken() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
