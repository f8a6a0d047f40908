package io.fleetkey.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.TestPki;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaKeystoreTest {
    @TempDir
    Path dir;

    private CaKeystore.Settings settings(String password) {
        return new CaKeystore.Settings(dir, password, "P-256", null, null, null, null, null);
    }

    @Test
    void first_start_creates_root_and_issuing_ca_as_specified() {
        CaKeystore.IssuingCa ca = CaKeystore.loadOrCreate(settings("correct horse battery"), CryptoProvider.BC, Instant.now());
        X509Certificate issuing = ca.chain().get(0);
        X509Certificate root = ca.chain().get(1);
        assertThat(root.getBasicConstraints()).isEqualTo(1);
        assertThat(issuing.getBasicConstraints()).isEqualTo(0);
        assertThat(root.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(((java.security.interfaces.ECPublicKey) root.getPublicKey()).getParams().getOrder().bitLength()).isEqualTo(384);
        assertThat(Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()).toDays()).isGreaterThanOrEqualTo(20 * 365);
        assertThat(Duration.between(issuing.getNotBefore().toInstant(), issuing.getNotAfter().toInstant()).toDays()).isGreaterThanOrEqualTo(10 * 365);
    }

    @Test
    void ca_keystore_is_encrypted_and_owner_only() throws Exception {
        CaKeystore.loadOrCreate(settings("correct horse battery"), CryptoProvider.BC, Instant.now());
        Path file = CaKeystore.keystoreFile(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        assertThatThrownBy(() -> ks.load(Files.newInputStream(file), "wrong".toCharArray())).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void second_start_loads_the_same_ca() {
        var first = CaKeystore.loadOrCreate(settings("pw-1234567890"), CryptoProvider.BC, Instant.now());
        var second = CaKeystore.loadOrCreate(settings("pw-1234567890"), CryptoProvider.BC, Instant.now());
        assertThat(second.chain()).isEqualTo(first.chain());
    }

    @Test
    void wrong_passphrase_says_what_to_set() {
        CaKeystore.loadOrCreate(settings("pw-1234567890"), CryptoProvider.BC, Instant.now());
        assertThatThrownBy(() -> CaKeystore.loadOrCreate(settings("another-one"), CryptoProvider.BC, Instant.now()))
                .hasMessageContaining("FLEETKEY_CA_PASSWORD");
    }

    @Test
    void without_a_passphrase_one_is_generated_and_kept_owner_only() throws Exception {
        var first = CaKeystore.loadOrCreate(settings(null), CryptoProvider.BC, Instant.now());
        Path pw = CaKeystore.passwordFile(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pw))).isEqualTo("rw-------");
        assertThat(Files.readString(pw).trim()).hasSizeGreaterThanOrEqualTo(40);
        assertThat(CaKeystore.loadOrCreate(settings(null), CryptoProvider.BC, Instant.now()).chain()).isEqualTo(first.chain());
    }

    @Test
    void existing_keystore_without_known_passphrase_is_an_error_with_a_fix() throws Exception {
        CaKeystore.loadOrCreate(settings(null), CryptoProvider.BC, Instant.now());
        Files.delete(CaKeystore.passwordFile(dir));
        assertThatThrownBy(() -> CaKeystore.loadOrCreate(settings(null), CryptoProvider.BC, Instant.now()))
                .hasMessageContaining("set FLEETKEY_CA_PASSWORD");
    }

    @Test
    void imports_an_existing_ca_from_pem() throws Exception {
        TestPki.Ca existing = TestPki.ca("Existing Corporate CA");
        Path chain = dir.resolve("import-chain.pem");
        Path key = dir.resolve("import-key.pem");
        Files.writeString(chain, Certificates.toPem(List.of(existing.certificate())));
        try (JcaPEMWriter w = new JcaPEMWriter(Files.newBufferedWriter(key))) {
            w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(existing.keys().getPrivate(), null));
        }
        Path data = dir.resolve("data");
        var ca = CaKeystore.loadOrCreate(new CaKeystore.Settings(data, "pw-1234567890", "P-256", null, null, chain, key, null),
                CryptoProvider.BC, Instant.now());
        assertThat(ca.chain().get(0)).isEqualTo(existing.certificate());
    }

    @Test
    void imports_an_existing_ca_from_pkcs12() throws Exception {
        TestPki.Ca existing = TestPki.ca("Existing Corporate CA");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("ca", existing.keys().getPrivate(), "import-pw".toCharArray(), new Certificate[]{existing.certificate()});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, "import-pw".toCharArray());
        Path p12 = dir.resolve("import.p12");
        Files.write(p12, out.toByteArray());
        Path data = dir.resolve("data");
        var ca = CaKeystore.loadOrCreate(new CaKeystore.Settings(data, "pw-1234567890", "P-256", p12, "import-pw", null, null, null),
                CryptoProvider.BC, Instant.now());
        assertThat(ca.chain().get(0)).isEqualTo(existing.certificate());
    }

    @Test
    void import_of_a_key_that_does_not_match_is_refused() throws Exception {
        TestPki.Ca existing = TestPki.ca("Existing Corporate CA");
        TestPki.Ca other = TestPki.ca("Other CA");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("ca", other.keys().getPrivate(), "import-pw".toCharArray(), new Certificate[]{existing.certificate()});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, "import-pw".toCharArray());
        Path p12 = dir.resolve("bad.p12");
        Files.write(p12, out.toByteArray());
        assertThatThrownBy(() -> CaKeystore.loadOrCreate(new CaKeystore.Settings(dir.resolve("data"), "pw-1234567890",
                "P-256", p12, "import-pw", null, null, null), CryptoProvider.BC, Instant.now()))
                .hasMessageContaining("does not match");
    }
}
