package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FactoryIdentityTest {
    private static final char[] PASSWORD = "factory-password-0123".toCharArray();
    private static final TestPki MAKER = new TestPki("Acme Maker");

    @TempDir
    Path dir;

    /** Writes a PKCS#12 file as fleetkey-simulator factory does: one key entry with its chain. */
    static Path pkcs12(Path file, String alias, KeyPair keys, List<X509Certificate> chain, char[] password)
            throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(alias, keys.getPrivate(), password, chain.toArray(new Certificate[0]));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.store(out, password);
        Files.write(file, out.toByteArray());
        return file;
    }

    static List<X509Certificate> idevidChain(KeyPair keys, String deviceId) {
        return List.of(MAKER.issueClient(keys.getPublic(), deviceId), MAKER.issuing, MAKER.root);
    }

    @ParameterizedTest
    @EnumSource(DeviceKeyType.class)
    void a_factory_identity_loads_with_the_right_password(DeviceKeyType type) throws Exception {
        KeyPair keys = type.generate();
        List<X509Certificate> chain = idevidChain(keys, "meter-000001");
        Path file = pkcs12(dir.resolve("meter-000001.p12"), "idevid", keys, chain, PASSWORD);

        FactoryIdentity identity = FactoryIdentity.load(file, PASSWORD);

        assertThat(identity.privateKey().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
        assertThat(identity.chain()).containsExactlyElementsOf(chain);
        assertThat(identity.certificate()).isEqualTo(chain.get(0));
        assertThat(identity.signer().chain()).containsExactlyElementsOf(chain);
        assertThat(identity.toString()).contains("CN=meter-000001").doesNotContain(new String(PASSWORD));
    }

    @Test
    void a_wrong_password_is_refused_without_showing_it() throws Exception {
        KeyPair keys = DeviceKeyType.P256.generate();
        Path file = pkcs12(dir.resolve("d.p12"), "idevid", keys, idevidChain(keys, "d"), PASSWORD);
        char[] wrong = "not-the-password-42".toCharArray();

        assertThatThrownBy(() -> FactoryIdentity.load(file, wrong))
                .isInstanceOf(FactoryIdentity.WrongPasswordException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("password does not open")
                .hasMessageNotContaining("not-the-password-42");
    }

    @Test
    void the_single_key_entry_is_used_when_there_is_no_idevid_alias() throws Exception {
        KeyPair keys = DeviceKeyType.P256.generate();
        Path file = pkcs12(dir.resolve("d.p12"), "device key", keys, idevidChain(keys, "d"), PASSWORD);

        assertThat(FactoryIdentity.load(file, PASSWORD).privateKey().getEncoded())
                .isEqualTo(keys.getPrivate().getEncoded());
    }

    @Test
    void a_store_with_two_other_key_entries_is_refused_naming_them() throws Exception {
        KeyPair one = DeviceKeyType.P256.generate();
        KeyPair two = DeviceKeyType.P256.generate();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("one", one.getPrivate(), PASSWORD, idevidChain(one, "d").toArray(new Certificate[0]));
        store.setKeyEntry("two", two.getPrivate(), PASSWORD, idevidChain(two, "d").toArray(new Certificate[0]));
        Path file = dir.resolve("two.p12");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD);
        }

        assertThatThrownBy(() -> FactoryIdentity.load(file, PASSWORD)).isInstanceOf(IOException.class)
                .hasMessageContaining("2 key entries").hasMessageContaining("idevid");
    }

    @Test
    void a_store_of_certificates_only_has_no_key_entry() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("maker", MAKER.root);
        Path file = dir.resolve("certs.p12");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD);
        }

        assertThatThrownBy(() -> FactoryIdentity.load(file, PASSWORD)).isInstanceOf(IOException.class)
                .isNotInstanceOf(FactoryIdentity.WrongPasswordException.class)
                .hasMessageContaining("no key entry");
    }

    @Test
    void a_pem_file_is_not_a_pkcs12_key_store() throws Exception {
        Path file = Files.writeString(dir.resolve("idevid.pem"), io.fleetkey.protocol.Certificates.toPem(List.of(MAKER.root)));

        assertThatThrownBy(() -> FactoryIdentity.load(file, PASSWORD)).isInstanceOf(IOException.class)
                .isNotInstanceOf(FactoryIdentity.WrongPasswordException.class)
                .hasMessageContaining("is not a PKCS#12 key store");
    }

    @Test
    void a_missing_file_is_named() {
        Path file = dir.resolve("absent.p12");

        assertThatThrownBy(() -> FactoryIdentity.load(file, PASSWORD)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void a_certificate_for_another_key_is_refused() throws Exception {
        KeyPair keys = DeviceKeyType.P256.generate();
        KeyPair other = DeviceKeyType.P256.generate();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        // The JDK key store does not check that the certificate is the key's; a broken factory could write this.
        store.setKeyEntry("idevid", keys.getPrivate(), PASSWORD, idevidChain(other, "d").toArray(new Certificate[0]));
        Path file = dir.resolve("mismatch.p12");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD);
        }

        assertThatThrownBy(() -> FactoryIdentity.load(file, PASSWORD)).isInstanceOf(IOException.class)
                .hasMessageContaining("is not for its key");
    }

    @Test
    void an_identity_made_in_memory_must_be_a_key_and_its_certificate() {
        KeyPair keys = DeviceKeyType.P256.generate();
        List<X509Certificate> chain = idevidChain(keys, "d-1");

        assertThat(FactoryIdentity.of(keys.getPrivate(), chain).certificate()).isEqualTo(chain.get(0));
        assertThatThrownBy(() -> FactoryIdentity.of(DeviceKeyType.P256.generate().getPrivate(), chain))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not for this key");
        assertThatThrownBy(() -> FactoryIdentity.of(keys.getPrivate(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs its certificate");
    }
}
