package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityDirectoryTest {
    private final TestPki pki = new TestPki("Store");

    @TempDir
    Path tmp;

    @Test
    void a_new_directory_holds_no_identity() throws Exception {
        assertThat(new IdentityDirectory(tmp.resolve("id")).load()).isEmpty();
    }

    @Test
    void the_pending_key_is_kept_until_a_certificate_arrives_for_it() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        KeyPair first = directory.pendingKeyPair();
        KeyPair again = directory.pendingKeyPair();
        assertThat(again.getPublic().getEncoded()).isEqualTo(first.getPublic().getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.dir()))).isEqualTo("rwx------");
    }

    @Test
    void commit_makes_the_pending_key_and_its_chain_current() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        KeyPair keys = directory.pendingKeyPair();
        X509Certificate certificate = pki.issueClient(keys.getPublic(), "dev-7");

        DeviceIdentity committed = directory.commit(certificate, pki.caCertificates());

        assertThat(committed.chain()).containsExactly(certificate, pki.issuing);
        DeviceIdentity loaded = directory.load().orElseThrow();
        assertThat(loaded.chain()).containsExactly(certificate, pki.issuing);
        assertThat(loaded.deviceId()).isEqualTo("dev-7");
        assertThat(KeyFiles.readCertificates(directory.caFile())).containsExactly(pki.issuing, pki.root);
        assertThat(KeyFiles.readKeyPair(directory.keyFile()).getPublic().getEncoded())
                .isEqualTo(keys.getPublic().getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.keyFile())))
                .isEqualTo("rw-------");
        assertThat(directory.dir().resolve("pending")).doesNotExist();
    }

    @Test
    void renewal_replaces_key_and_certificate_together_and_keeps_only_the_pair_before() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        directory.commit(pki.issueClient(directory.pendingKeyPair().getPublic(), "dev-7"), pki.caCertificates());
        Path oldGeneration = directory.dir().resolve(Files.readSymbolicLink(directory.dir().resolve("current")));

        KeyPair fresh = directory.pendingKeyPair();
        X509Certificate renewed = pki.issueClient(fresh.getPublic(), "dev-7");
        directory.commit(renewed, pki.caCertificates());

        DeviceIdentity loaded = directory.load().orElseThrow();
        assertThat(loaded.certificate()).isEqualTo(renewed);
        assertThat(KeyFiles.readKeyPair(directory.keyFile()).getPublic().getEncoded())
                .isEqualTo(fresh.getPublic().getEncoded());
        assertThat(oldGeneration).exists(); // the fallback
        try (Stream<Path> generations = Files.list(directory.dir().resolve("generations"))) {
            assertThat(generations).hasSize(2);
        }
        directory.commit(pki.issueClient(directory.pendingKeyPair().getPublic(), "dev-7"), pki.caCertificates());
        assertThat(oldGeneration).doesNotExist();
        assertThat(Files.isSymbolicLink(directory.keyFile())).isTrue();
    }

    @Test
    void a_certificate_for_another_key_is_not_committed() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        directory.pendingKeyPair();
        X509Certificate foreign = pki.issueClient(TestPki.newKeyPair().getPublic(), "dev-7");
        assertThatThrownBy(() -> directory.commit(foreign, pki.caCertificates()))
                .isInstanceOf(IOException.class).hasMessageContaining("not for the pending key");
        assertThat(directory.load()).isEmpty();
    }

    @Test
    void commit_without_a_pending_key_is_refused() {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        X509Certificate any = pki.issueClient(TestPki.newKeyPair().getPublic(), "dev-7");
        assertThatThrownBy(() -> directory.commit(any, pki.caCertificates())).hasMessageContaining("no pending key");
    }

    @Test
    void a_pending_key_cut_short_while_written_is_replaced() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        directory.pendingKeyPair();
        Path pendingKey = directory.dir().resolve("pending").resolve(IdentityDirectory.KEY_FILE);
        Files.writeString(pendingKey, "-----BEGIN PRIVATE KEY-----\nMIGH");
        assertThat(directory.pendingKeyPair().getPrivate()).isNotNull();
    }

    @Test
    void a_key_that_does_not_match_its_certificate_is_reported() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        directory.commit(pki.issueClient(directory.pendingKeyPair().getPublic(), "dev-7"), pki.caCertificates());
        Path generation = directory.dir().resolve(Files.readSymbolicLink(directory.dir().resolve("current")));
        Path certificate = generation.resolve(IdentityDirectory.CERTIFICATE_FILE);
        Files.delete(certificate);
        KeyFiles.writeCertificates(certificate, java.util.List.of(pki.issueClient(TestPki.newKeyPair().getPublic(), "dev-7")));
        assertThatThrownBy(directory::load).hasMessageContaining("do not belong together");
    }

    @Test
    void only_one_holder_of_the_lock_at_a_time() throws Exception {
        IdentityDirectory directory = new IdentityDirectory(tmp.resolve("id"));
        try (IdentityDirectory.Lock lock = directory.lock()) {
            assertThatThrownBy(directory::lock).isInstanceOf(IOException.class).hasMessageContaining("in use");
        }
        try (IdentityDirectory.Lock again = directory.lock()) {
            assertThat(Files.exists(directory.dir(), LinkOption.NOFOLLOW_LINKS)).isTrue();
        }
    }

    @Test
    void the_identity_is_also_a_0600_pkcs12_store_and_the_generation_before_is_kept_as_a_fallback() throws Exception {
        Path dir = tmp.resolve("store");
        IdentityDirectory directory = new IdentityDirectory(dir, "s3cret".toCharArray());
        java.security.KeyPair first = directory.pendingKeyPair();
        directory.commit(pki.issueClient(first.getPublic(), "dev-1"), pki.caCertificates());
        java.security.KeyPair second = directory.pendingKeyPair();
        DeviceIdentity current = directory.commit(pki.issueClient(second.getPublic(), "dev-1"), pki.caCertificates());
        java.security.KeyPair third = directory.pendingKeyPair();
        DeviceIdentity newest = directory.commit(pki.issueClient(third.getPublic(), "dev-1"), pki.caCertificates());

        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(directory.keyStoreFile())) {
            store.load(in, "s3cret".toCharArray());
        }
        assertThat(store.getCertificate(IdentityDirectory.KEY_STORE_ALIAS)).isEqualTo(newest.certificate());
        assertThat(store.getKey(IdentityDirectory.KEY_STORE_ALIAS, "s3cret".toCharArray()).getEncoded())
                .isEqualTo(third.getPrivate().getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.keyStoreFile())))
                .isEqualTo("rw-------");
        try (var generations = Files.list(dir.resolve("generations"))) {
            assertThat(generations.map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrder(current.serialHex(), newest.serialHex());
        }
    }
}
