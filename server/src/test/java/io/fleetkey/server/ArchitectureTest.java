package io.fleetkey.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The core stays transport-neutral: no HTTP, no SQL, no door in enrollment, policy, authority, registry or ocsp. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.fleetkey.server");

    private static final String[] CORE = {"..server.enrollment..", "..server.policy..", "..server.authority..",
        "..server.registry..", "..server.ocsp.."};

    @Test
    void core_does_not_use_http_or_transports() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("io.micronaut.http..", "io.netty..",
                        "..server.transport..", "..server.admin..", "org.eclipse.californium..", "org.eclipse.paho..")
                .check(CLASSES);
    }

    /** The core tells an EnrollmentObserver; only the metrics package knows Micrometer. */
    @Test
    void core_does_not_use_a_metrics_library() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("io.micrometer..", "..server.metrics..")
                .check(CLASSES);
    }

    @Test
    void core_does_not_use_sql() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "..server.persistence..")
                .check(CLASSES);
    }

    @Test
    void doors_do_not_touch_the_database() {
        noClasses().that().resideInAnyPackage("..server.transport..", "..server.admin..")
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "..server.persistence..")
                .check(CLASSES);
    }

    /** Enrollment doors decode, state the channel's proof, call the core and encode: no policy, registry or crypto. */
    @Test
    void enrollment_doors_hold_no_policy_registry_or_crypto() {
        noClasses().that().resideInAnyPackage("..server.transport..")
                .should().dependOnClassesThat().resideInAnyPackage("..server.policy..", "..server.registry..",
                        "org.bouncycastle..", "java.security.spec..")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.security.Signature")
                .check(CLASSES);
    }

    /** The command line runs in the server's jar without starting it: no Micronaut, no server internals. */
    @Test
    void command_line_uses_no_micronaut_and_no_server_internals() {
        noClasses().that().resideInAPackage("..server.cli..")
                .should().dependOnClassesThat().resideInAnyPackage("io.micronaut..", "io.netty..",
                        "..server.admin..", "..server.registry..", "..server.persistence..", "..server.config..",
                        "..server.enrollment..", "..server.authority..", "..server.transport..")
                .check(CLASSES);
    }
}
