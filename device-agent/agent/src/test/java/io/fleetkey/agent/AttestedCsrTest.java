package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;

import io.fleetkey.protocol.AttestationBundle;
import io.fleetkey.protocol.CsrAttestation;
import io.fleetkey.protocol.DeviceStatement;
import io.fleetkey.protocol.Evidence;
import io.fleetkey.protocol.Evidence.DebugStatus;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AttestedCsrTest {
    private static final TestPki MAKER = new TestPki("Acme Maker");
    private static final TestPki FLEETKEY = new TestPki("Fleetkey");
    private static final String NONCE = "eDd7UldXtJRCf4kBT5fXmSjzk40U61HiD7XeyYNOswQ";

    @TempDir
    Path dir;

    private static StatementSigner idevid(DeviceKeyType type, String deviceId) {
        KeyPair keys = type.generate();
        return new StatementSigner(keys.getPrivate(), FactoryIdentityTest.idevidChain(keys, deviceId));
    }

    private static Evidence evidence() {
        return new Evidence("M-100", "acme-meter-fw", "2.4.1", DebugStatus.DISABLED,
                List.of(new Evidence.Measurement("firmware", "ab".repeat(32))));
    }

    /** Checks proof of possession and returns the request. */
    private static PKCS10CertificationRequest verified(byte[] der) throws Exception {
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(der);
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(TestPki.BC)
                .build(csr.getSubjectPublicKeyInfo()))).as("proof of possession").isTrue();
        return csr;
    }

    private static AttestationBundle bundle(PKCS10CertificationRequest csr) {
        Attribute[] attributes = csr.getAttributes(new ASN1ObjectIdentifier(CsrAttestation.ID_AA_ATTESTATION));
        assertThat(attributes).hasSize(1);
        assertThat(attributes[0].getAttrValues().size()).isEqualTo(1);
        return AttestationBundle.decode(attributes[0].getAttrValues().getObjectAt(0));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @ParameterizedTest
    @EnumSource(DeviceKeyType.class)
    void the_csr_of_each_key_type_proves_possession_and_carries_a_statement_bound_to_its_key(DeviceKeyType type)
            throws Exception {
        KeyPair keys = type.generate();
        StatementSigner signer = idevid(DeviceKeyType.P256, "meter-000001");
        Instant now = Instant.parse("2026-11-13T10:00:00Z");

        byte[] der = AttestedCsr.forDevice("meter-000001", keys).signedBy(signer).nonce(NONCE).evidence(evidence())
                .clock(Clock.fixed(now, ZoneOffset.UTC)).build();

        PKCS10CertificationRequest csr = verified(der);
        assertThat(IETFUtils.valueToString(csr.getSubject().getRDNs(BCStyle.CN)[0].getFirst().getValue()))
                .isEqualTo("meter-000001");
        assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
        assertThat(csr.getSignatureAlgorithm().getAlgorithm().getId()).isEqualTo(switch (type) {
            case P256 -> "1.2.840.10045.4.3.2";   // ecdsa-with-SHA256
            case P384 -> "1.2.840.10045.4.3.3";   // ecdsa-with-SHA384
            case ED25519 -> "1.3.101.112";        // id-Ed25519
            case RSA2048, RSA3072 -> "1.2.840.113549.1.1.11"; // sha256WithRSAEncryption
        });
        AttestationBundle bundle = bundle(csr);
        assertThat(bundle.certificates()).containsExactlyElementsOf(signer.chain());
        assertThat(bundle.statements()).hasSize(1);
        DeviceStatement.Claims claims = DeviceStatement.verify(bundle.deviceStatement().orElseThrow(),
                signer.certificate().getPublicKey());
        assertThat(claims.deviceId()).isEqualTo("meter-000001");
        assertThat(claims.csrKeySha256()).isEqualTo(sha256(keys.getPublic().getEncoded()))
                .isEqualTo(io.fleetkey.protocol.DeviceStatement.keyBinding(keys.getPublic()));
        assertThat(claims.issuedAt()).isEqualTo(now);
        assertThat(claims.nonce()).isEqualTo(NONCE);
        assertThat(claims.evidence()).isEqualTo(evidence());
        assertThat(csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_challengePassword)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(DeviceKeyType.class)
    void a_factory_identity_of_each_key_type_signs_the_statement(DeviceKeyType type) throws Exception {
        KeyPair idevidKeys = type.generate();
        Path p12 = FactoryIdentityTest.pkcs12(dir.resolve("idevid.p12"), "idevid", idevidKeys,
                FactoryIdentityTest.idevidChain(idevidKeys, "pos-7"), "pw-0123456789ab".toCharArray());
        FactoryIdentity factory = FactoryIdentity.load(p12, "pw-0123456789ab".toCharArray());
        KeyPair keys = KeyFiles.generateKeyPair();

        byte[] der = AttestedCsr.forDevice("pos-7", keys).signedBy(StatementSigner.of(factory)).nonce(NONCE).build();

        AttestationBundle bundle = bundle(verified(der));
        assertThat(bundle.certificates().get(0)).isEqualTo(factory.certificate());
        DeviceStatement.Claims claims = DeviceStatement.verify(bundle.deviceStatement().orElseThrow(),
                factory.certificate().getPublicKey());
        assertThat(claims.csrKeySha256()).isEqualTo(io.fleetkey.protocol.DeviceStatement.keyBinding(keys.getPublic()));
        assertThat(claims.evidence()).isEqualTo(Evidence.NONE);
    }

    @Test
    void a_statement_does_not_verify_with_another_key() throws Exception {
        byte[] der = AttestedCsr.forDevice("d-1", KeyFiles.generateKeyPair())
                .signedBy(idevid(DeviceKeyType.P256, "d-1")).nonce(NONCE).build();
        String jwt = bundle(verified(der)).deviceStatement().orElseThrow();

        assertThatThrownBy(() -> DeviceStatement.verify(jwt, DeviceKeyType.P256.generate().getPublic()))
                .isInstanceOf(DeviceStatement.InvalidStatement.class);
    }

    @Test
    void a_renewal_is_signed_by_the_current_identity_and_may_carry_a_token() throws Exception {
        KeyPair currentKeys = KeyFiles.generateKeyPair();
        X509Certificate current = FLEETKEY.issueClient(currentKeys.getPublic(), "gw-12");
        DeviceIdentity identity = new DeviceIdentity(currentKeys.getPrivate(), List.of(current, FLEETKEY.issuing));
        KeyPair next = KeyFiles.generateKeyPair();

        byte[] der = AttestedCsr.forDevice("gw-12", next).signedBy(StatementSigner.of(identity)).nonce(NONCE)
                .evidence(evidence()).challengePassword("tok_en-0123").build();

        PKCS10CertificationRequest csr = verified(der);
        AttestationBundle bundle = bundle(csr);
        assertThat(bundle.certificates()).containsExactly(current, FLEETKEY.issuing);
        assertThat(DeviceStatement.verify(bundle.deviceStatement().orElseThrow(), current.getPublicKey())
                .csrKeySha256()).isEqualTo(io.fleetkey.protocol.DeviceStatement.keyBinding(next.getPublic()));
        Attribute[] password = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        assertThat(password).hasSize(1);
        assertThat(((ASN1String) password[0].getAttrValues().getObjectAt(0)).getString()).isEqualTo("tok_en-0123");
    }

    @Test
    void the_evidence_of_real_files_travels_in_the_statement() throws Exception {
        byte[] firmware = "firmware 2.4.1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Path fw = Files.write(dir.resolve("firmware.img"), firmware);
        EvidenceSource source = new EvidenceSource("M-100", null, "2.4.1", DebugStatus.DISABLED,
                List.of(new EvidenceSource.MeasuredFile("firmware", fw)));
        StatementSigner signer = idevid(DeviceKeyType.ED25519, "d-2");

        byte[] der = AttestedCsr.forDevice("d-2", KeyFiles.generateKeyPair()).signedBy(signer).nonce(NONCE)
                .evidence(source.collect()).build();

        Evidence sent = DeviceStatement.verify(bundle(verified(der)).deviceStatement().orElseThrow(),
                signer.certificate().getPublicKey()).evidence();
        assertThat(sent.measurements()).containsExactly(new Evidence.Measurement("firmware", sha256(firmware)));
    }

    @Test
    void a_request_needs_a_signer_a_valid_device_id_and_a_usable_key() throws Exception {
        KeyPair keys = KeyFiles.generateKeyPair();
        assertThatThrownBy(() -> AttestedCsr.forDevice("d-3", keys).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("signer");
        assertThatThrownBy(() -> AttestedCsr.forDevice("not a device id", keys))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("device id");
        var dsa = java.security.KeyPairGenerator.getInstance("DSA");
        dsa.initialize(2048);
        assertThatThrownBy(() -> AttestedCsr.forDevice("d-3", dsa.generateKeyPair()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DSA");
        assertThat(AttestedCsr.signatureAlgorithm(keys.getPublic())).isEqualTo("SHA256withECDSA");
    }
}
