package io.fleetkey.server.ocsp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.fleetkey.server.authority.CaKeystore;
import io.fleetkey.server.authority.CertificateAuthority;
import io.fleetkey.server.authority.CryptoProvider;
import io.fleetkey.server.authority.SoftwareCaSigner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delegated OCSP signer's life on a clock that moves: issued when missing, kept while it has
 * more than renew-before left (also by a new process reading the file), renewed with a new key
 * after that, each new certificate handed to the registry before use, the file 0600.
 */
class OcspSigningTest {
    private static final Duration VALIDITY = Duration.ofDays(30);
    private static final Duration RENEW_BEFORE = Duration.ofDays(7);

    @TempDir
    Path dir;

    @Test
    void the_signer_is_kept_until_renew_before_and_then_renewed_with_a_new_key() throws Exception {
        Instant start = Instant.parse("2026-11-27T12:00:00Z");
        CaKeystore.IssuingCa ca = CaKeystore.loadOrCreate(new CaKeystore.Settings(dir, "pw-0123456789", "P-256", null,
                null, null, null, null), CryptoProvider.BC, start);
        CertificateAuthority authority = new CertificateAuthority(new SoftwareCaSigner(ca.key(), ca.chain(),
                CryptoProvider.BC), "https://fleetkey.example");
        List<X509Certificate> recorded = new ArrayList<>();
        OcspSigning.Settings settings = new OcspSigning.Settings(dir.resolve("ca/ocsp-signer.p12"), ca.passphrase(),
                VALIDITY, RENEW_BEFORE);
        OcspSigning signing = new OcspSigning(settings, authority, CryptoProvider.BC, recorded::add);

        assertThat(signing.renewIfDue(start)).isTrue();
        X509Certificate first = signing.current().certificate();
        assertThat(recorded).containsExactly(first);
        assertThat(Files.getPosixFilePermissions(settings.file())).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        assertThat(signing.renewIfDue(start.plus(Duration.ofDays(22)))).isFalse();
        OcspSigning restarted = new OcspSigning(settings, authority, CryptoProvider.BC, recorded::add);
        assertThat(restarted.renewIfDue(start.plus(Duration.ofDays(22)))).isFalse();
        assertThat(restarted.current().certificate()).isEqualTo(first);

        Instant due = start.plus(Duration.ofDays(23).plusHours(1)); // under 7 days left
        assertThat(signing.renewIfDue(due)).isTrue();
        X509Certificate second = signing.current().certificate();
        assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(second.getPublicKey()).isNotEqualTo(first.getPublicKey());
        assertThat(second.getNotAfter().toInstant()).isEqualTo(due.plus(VALIDITY));
        second.verify(ca.chain().get(0).getPublicKey());
        assertThat(recorded).containsExactly(first, second);
        OcspSigning afterRenewal = new OcspSigning(settings, authority, CryptoProvider.BC, recorded::add);
        assertThat(afterRenewal.renewIfDue(due)).isFalse();
        assertThat(afterRenewal.current().certificate()).isEqualTo(second);
    }
}
