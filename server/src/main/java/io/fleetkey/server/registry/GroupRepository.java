package io.fleetkey.server.registry;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/** Enrollment groups and their maker CAs. */
public interface GroupRepository {
    Optional<EnrollmentGroup> find(String name);

    /** Fails with {@link DuplicateKeyException} if the name exists. */
    void insert(EnrollmentGroup group);

    /** Replaces every field but the name and creation time. */
    void update(EnrollmentGroup group);

    List<EnrollmentGroup> list();

    /** Every maker CA of every group, each once: the anchors a factory certificate may chain to. */
    List<X509Certificate> allMakerCas();
}
