package io.fleetkey.server.registry;

import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/** Enrollment groups and their maker CAs. */
public interface GroupRepository {
    Optional<EnrollmentGroup> find(String name);

    /** Fails with {@link DuplicateKeyException} if the name exists. */
    void insert(EnrollmentGroup group);

    /**
     * Replaces every field but the name, the creation time and the allowed digests, which change
     * one at a time through {@link #addDigest} and {@link #removeDigest}.
     */
    void update(EnrollmentGroup group);

    /** Allows a digest, or allows a withdrawn one again. @return false if the group already allows it */
    boolean addDigest(String group, AttestationPolicy.AllowedDigest digest);

    /** Withdraws an allowed digest; it stays on record. @return false if the group did not allow it */
    boolean withdrawDigest(String group, String component, String sha256, java.time.Instant at);

    List<EnrollmentGroup> list();

    /** Every maker CA of every group, each once: the anchors a factory certificate may chain to. */
    List<X509Certificate> allMakerCas();

    /** Every maker CRL of every group, each once. */
    List<X509CRL> allMakerCrls();
}
