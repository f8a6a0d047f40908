package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.DefaultAlgorithmNameFinder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
    @TempDir
    Path dir;

    @Test
    void csr_names_the_device_and_proves_possession_with_sha256_ecdsa_on_p256() throws Exception {
        KeyPair keys = KeyFiles.generateKeyPair();
        JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(
                new PKCS10CertificationRequest(KeyFiles.certificationRequest(keys, "gw-42.site_a"))).setProvider(TestPki.BC);

        assertThat(csr.getSubject()).isEqualTo(new X500Name("CN=gw-42.site_a"));
        assertThat(new DefaultAlgorithmNameFinder().getAlgorithmName(csr.getSignatureAlgorithm()))
                .isEqualTo("SHA256WITHECDSA");
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(TestPki.BC).build(csr.getPublicKey()))).isTrue();
        assertThat(((ECPublicKey) keys.getPublic()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(csr.getPublicKey().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
    }

    @Test
    void csr_refuses_an_invalid_device_id() {
        KeyPair keys = KeyFiles.generateKeyPair();
        assertThatThrownBy(() -> KeyFiles.certificationRequest(keys, "bad id,CN=admin"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A-Z");
        assertThatThrownBy(() -> KeyFiles.certificationRequest(keys, "x".repeat(65)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void private_key_file_is_created_owner_only_as_pkcs8_pem() throws Exception {
        Path file = dir.resolve("device.key");
        KeyFiles.writePrivateKey(file, KeyFiles.generateKeyPair().getPrivate());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----").contains("-----END PRIVATE KEY-----");
    }

    @Test
    void an_existing_key_file_is_never_overwritten() throws Exception {
        Path file = dir.resolve("device.key");
        Files.writeString(file, "precious");
        assertThatThrownBy(() -> KeyFiles.writePrivateKey(file, KeyFiles.generateKeyPair().getPrivate()))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo("precious");
    }

    @Test
    void a_key_read_back_signs_for_its_derived_public_key() throws Exception {
        Path file = dir.resolve("device.key");
        KeyPair original = KeyFiles.generateKeyPair();
        KeyFiles.writePrivateKey(file, original.getPrivate());

        KeyPair read = KeyFiles.readKeyPair(file);
        assertThat(read.getPublic().getEncoded()).isEqualTo(original.getPublic().getEncoded());
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(read.getPrivate());
        signer.update(new byte[]{1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(original.getPublic());
        verifier.update(new byte[]{1, 2, 3});
        assertThat(verifier.verify(signature)).isTrue();
    }

    @Test
    void a_file_without_a_pkcs8_key_is_refused_readably() throws Exception {
        Path file = dir.resolve("device.key");
        Files.writeString(file, "not a key\n");
        assertThatThrownBy(() -> KeyFiles.readKeyPair(file)).hasMessageContaining("PKCS#8");
    }

    @Test
    void certificates_are_written_readable_and_read_back_in_order() throws Exception {
        TestPki pki = new TestPki("Files");
        Path file = dir.resolve("ca.pem");
        KeyFiles.writeCertificates(file, pki.caCertificates());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
        assertThat(KeyFiles.readCertificates(file)).containsExactly(pki.issuing, pki.root);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(DeviceKeyType.class)
    void every_kind_of_device_key_is_written_read_back_and_signs_its_request(DeviceKeyType type) throws Exception {
        java.security.KeyPair keys = KeyFiles.generateKeyPair(type);
        java.nio.file.Path file = dir.resolve(type.setting() + ".key");
        KeyFiles.writePrivateKey(file, keys.getPrivate());
        java.security.KeyPair read = KeyFiles.readKeyPair(file);
        org.assertj.core.api.Assertions.assertThat(read.getPublic().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
        byte[] csr = KeyFiles.certificationRequest(read, "dev-" + type.setting());
        var request = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(csr);
        org.assertj.core.api.Assertions.assertThat(request.isSignatureValid(
                new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder().setProvider(TestPki.BC)
                        .build(request.getSubjectPublicKeyInfo()))).isTrue();
    }
}
