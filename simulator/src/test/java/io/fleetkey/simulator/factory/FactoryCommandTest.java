package io.fleetkey.simulator.factory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CRLReason;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.fleetkey.protocol.Certificates;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FactoryCommandTest {
    private static final String PASSWORD = "correct horse battery staple";
    private static final Map<String, String> ENV = Map.of(FactoryCommand.PASSWORD_ENV, PASSWORD);
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @TempDir
    Path temp;

    record Result(int status, String out, String err) {
    }

    private static Result run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new FactoryCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(List.of(args));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path initialized(String... extra) {
        Path dir = temp.resolve("acme");
        List<String> args = new ArrayList<>(List.of("init", "--dir", dir.toString(), "--maker", "Acme Devices"));
        args.addAll(List.of(extra));
        Result init = run(ENV, args.toArray(String[]::new));
        assertThat(init.status()).as(init.err()).isZero();
        return dir;
    }

    private static KeyStore.PrivateKeyEntry idevid(Path dir, String deviceId) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("devices").resolve(deviceId + ".p12"))) {
            store.load(in, PASSWORD.toCharArray());
        }
        assertThat(store.aliases().nextElement()).isEqualTo("idevid");
        return (KeyStore.PrivateKeyEntry) store.getEntry("idevid", new KeyStore.PasswordProtection(PASSWORD.toCharArray()));
    }

    private static X509Certificate makerCa(Path dir) throws IOException {
        return Certificates.fromPem(Files.readString(dir.resolve("maker-ca.pem"))).get(0);
    }

    private static String attribute(X509Certificate certificate, org.bouncycastle.asn1.ASN1ObjectIdentifier oid) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        return IETFUtils.valueToString(subject.getRDNs(oid)[0].getFirst().getValue());
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    private static X509CRL crl(Path dir) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve("maker-ca.crl.pem"))) {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(in);
        }
    }

    @Test
    void init_makes_a_p384_maker_ca_that_may_sign_devices_only() throws Exception {
        Path dir = initialized();

        X509Certificate ca = makerCa(dir);
        assertThat(ca.getSubjectX500Principal()).isEqualTo(ca.getIssuerX500Principal());
        assertThat(attribute(ca, BCStyle.O)).isEqualTo("Acme Devices");
        assertThat(ca.getBasicConstraints()).isZero();
        assertThat(ca.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(ca.getKeyUsage()).containsExactly(false, false, false, false, false, true, true, false, false);
        assertThat(ca.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(ca.getSigAlgName()).isEqualTo("SHA384withECDSA");
        assertThat(Duration.between(ca.getNotBefore().toInstant(), ca.getNotAfter().toInstant()).toDays())
                .isBetween(20 * 365L, 20 * 366L);
        ca.verify(ca.getPublicKey());
        assertThat(mode(dir.resolve("maker-ca.p12"))).isEqualTo("rw-------");
        assertThat(dir.resolve("factory-password")).doesNotExist();
    }

    @Test
    void init_without_a_password_generates_one_into_an_owner_only_file_and_warns() throws Exception {
        Path dir = temp.resolve("acme");
        Result init = run(Map.of(), "init", "--dir", dir.toString(), "--maker", "Acme Devices");

        assertThat(init.status()).isZero();
        Path passwordFile = dir.resolve("factory-password");
        assertThat(mode(passwordFile)).isEqualTo("rw-------");
        String password = Files.readString(passwordFile).strip();
        assertThat(password).matches("[A-Za-z0-9_-]{43}");
        assertThat(init.err()).contains("WARNING", passwordFile.toString(), FactoryCommand.PASSWORD_ENV)
                .doesNotContain(password);
        assertThat(init.out()).doesNotContain(password);

        Result issue = run(Map.of(), "issue", "--dir", dir.toString(), "--devices", "meter-1");
        assertThat(issue.status()).as(issue.err()).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("devices/meter-1.p12"))) {
            store.load(in, password.toCharArray());
        }
        assertThat(store.isKeyEntry("idevid")).isTrue();
    }

    @Test
    void init_refuses_to_overwrite_a_maker_ca() throws Exception {
        Path dir = initialized();
        byte[] before = Files.readAllBytes(dir.resolve("maker-ca.p12"));

        Result again = run(ENV, "init", "--dir", dir.toString(), "--maker", "Other");

        assertThat(again.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(again.err()).contains("holds a maker CA already", "never overwritten");
        assertThat(Files.readAllBytes(dir.resolve("maker-ca.p12"))).isEqualTo(before);
    }

    @Test
    void issued_idevids_load_with_the_password_and_chain_to_the_maker_ca() throws Exception {
        Path dir = initialized();

        Result issue = run(ENV, "issue", "--dir", dir.toString(), "--devices", "meter-0001,meter_0002", "--model", "M-100");

        assertThat(issue.status()).as(issue.err()).isZero();
        assertThat(issue.out()).contains("Issued 2 IDevIDs");
        X509Certificate ca = makerCa(dir);
        for (String id : List.of("meter-0001", "meter_0002")) {
            KeyStore.PrivateKeyEntry entry = idevid(dir, id);
            X509Certificate leaf = (X509Certificate) entry.getCertificate();
            assertThat(entry.getCertificateChain()).hasSize(2);
            assertThat(entry.getCertificateChain()[1]).isEqualTo(ca);
            assertThat(leaf.getPublicKey()).isNotNull();
            assertThat(entry.getPrivateKey().getAlgorithm()).isEqualTo("EC");

            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                    .generateCertPath(List.of(leaf)), params);

            assertThat(attribute(leaf, BCStyle.CN)).isEqualTo(id);
            assertThat(attribute(leaf, BCStyle.SERIALNUMBER)).isEqualTo(id);
            assertThat(attribute(leaf, BCStyle.O)).isEqualTo("Acme Devices");
            assertThat(attribute(leaf, BCStyle.OU)).isEqualTo("M-100");
            assertThat(leaf.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
            assertThat(leaf.getKeyUsage()[0]).isTrue();
            assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
            assertThat(leaf.getExtensionValue("2.5.29.35")).isNotNull();
            assertThat(leaf.getExtensionValue("2.5.29.14")).isNotNull();
            assertThat(leaf.getSerialNumber().bitLength()).isGreaterThanOrEqualTo(64);
            assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()).toDays())
                    .isBetween(15 * 365L, 15 * 366L);
            assertThat(mode(dir.resolve("devices/" + id + ".p12"))).isEqualTo("rw-------");
        }
        assertThat(Files.readAllLines(dir.resolve("issued.csv"))).hasSize(3).first().isEqualTo("serial,deviceId,notAfter,key");
    }

    @ParameterizedTest
    @ValueSource(strings = {"p384", "ed25519", "rsa2048"})
    void every_device_key_type_makes_a_usable_idevid(String key) throws Exception {
        Path dir = initialized();

        Result issue = run(ENV, "issue", "--dir", dir.toString(), "--devices", "dev-1", "--key", key);

        assertThat(issue.status()).as(issue.err()).isZero();
        KeyStore.PrivateKeyEntry entry = idevid(dir, "dev-1");
        entry.getCertificate().verify(makerCa(dir).getPublicKey());
        assertThat(entry.getPrivateKey().getAlgorithm()).isIn("EC", "EdDSA", "Ed25519", "RSA");
        assertThat(entry.getCertificate().getPublicKey().getEncoded()).isNotEmpty();
    }

    @Test
    void a_batch_by_prefix_is_numbered_and_a_rerun_keeps_the_devices_it_made() throws Exception {
        Path dir = initialized();
        assertThat(run(ENV, "issue", "--dir", dir.toString(), "--prefix", "dev-", "--count", "3").status()).isZero();
        byte[] first = Files.readAllBytes(dir.resolve("devices/dev-000001.p12"));

        Result rerun = run(ENV, "issue", "--dir", dir.toString(), "--prefix", "dev-", "--count", "5");

        assertThat(rerun.status()).as(rerun.err()).isZero();
        assertThat(rerun.out()).contains("Skipped dev-000001", "Issued 2 IDevIDs", "3 existing kept");
        assertThat(Files.readAllBytes(dir.resolve("devices/dev-000001.p12"))).isEqualTo(first);
        try (var files = Files.list(dir.resolve("devices"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly(
                    "dev-000001.p12", "dev-000002.p12", "dev-000003.p12", "dev-000004.p12", "dev-000005.p12");
        }
        assertThat(Files.readAllLines(dir.resolve("issued.csv"))).hasSize(6);
    }

    @Test
    void forever_is_99991231235959Z_and_never_beyond_the_maker_ca() throws Exception {
        Path forever = initialized("--validity", "forever");
        assertThat(run(ENV, "issue", "--dir", forever.toString(), "--devices", "d1", "--validity", "forever").status())
                .isZero();
        assertThat(((X509Certificate) idevid(forever, "d1").getCertificate()).getNotAfter().toInstant())
                .isEqualTo(Instant.parse("9999-12-31T23:59:59Z"));

        Path shortLived = temp.resolve("short");
        run(ENV, "init", "--dir", shortLived.toString(), "--maker", "Acme", "--validity", "2y");
        Result capped = run(ENV, "issue", "--dir", shortLived.toString(), "--devices", "d1", "--validity", "forever");
        assertThat(capped.status()).isZero();
        assertThat(capped.out()).contains("end with the maker CA");
        assertThat(((X509Certificate) idevid(shortLived, "d1").getCertificate()).getNotAfter())
                .isEqualTo(makerCa(shortLived).getNotAfter());
    }

    @Test
    void revoking_writes_a_signed_crl_whose_number_grows() throws Exception {
        Path dir = initialized();
        run(ENV, "issue", "--dir", dir.toString(), "--devices", "d1,d2,d3");
        X509Certificate ca = makerCa(dir);
        BigInteger d1 = ((X509Certificate) idevid(dir, "d1").getCertificate()).getSerialNumber();
        BigInteger d2 = ((X509Certificate) idevid(dir, "d2").getCertificate()).getSerialNumber();

        Result first = run(ENV, "revoke", "--dir", dir.toString(), "--devices", "d1");

        assertThat(first.status()).as(first.err()).isZero();
        X509CRL crl = crl(dir);
        crl.verify(ca.getPublicKey());
        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
        assertThat(FactoryDirectory.crlNumber(crl)).isEqualTo(BigInteger.ONE);
        X509CRLEntry entry = crl.getRevokedCertificate(d1);
        assertThat(entry).isNotNull();
        assertThat(entry.getRevocationReason()).isEqualTo(CRLReason.KEY_COMPROMISE);
        assertThat(Duration.between(crl.getThisUpdate().toInstant(), crl.getNextUpdate().toInstant()).toDays())
                .isEqualTo(30);

        Result second = run(ENV, "revoke", "--dir", dir.toString(), "--serial", d2.toString(16), "--reason",
                "cessationOfOperation", "--next-update", "7d");

        assertThat(second.status()).as(second.err()).isZero();
        X509CRL next = crl(dir);
        next.verify(ca.getPublicKey());
        assertThat(FactoryDirectory.crlNumber(next)).isEqualTo(BigInteger.TWO);
        assertThat(next.getRevokedCertificates()).hasSize(2);
        assertThat(next.getRevokedCertificate(d2).getRevocationReason()).isEqualTo(CRLReason.CESSATION_OF_OPERATION);
        assertThat(Files.readAllLines(dir.resolve("revoked.csv"))).hasSize(3)
                .anyMatch(l -> l.startsWith(d1.toString(16) + ",d1,") && l.endsWith(",keyCompromise"))
                .anyMatch(l -> l.startsWith(d2.toString(16) + ",d2,") && l.endsWith(",cessationOfOperation"));

        Result again = run(ENV, "revoke", "--dir", dir.toString(), "--devices", "d1");
        assertThat(again.out()).contains("revoked already");
        assertThat(Files.readAllLines(dir.resolve("revoked.csv"))).hasSize(3);

        assertThat(run(ENV, "crl", "--dir", dir.toString()).status()).isZero();
        assertThat(FactoryDirectory.crlNumber(crl(dir))).isEqualTo(BigInteger.valueOf(4));
        assertThat(crl(dir).getRevokedCertificates()).hasSize(2);
    }

    @Test
    void a_crl_without_revocations_can_be_published() throws Exception {
        Path dir = initialized();

        assertThat(run(ENV, "crl", "--dir", dir.toString()).status()).isZero();

        X509CRL crl = crl(dir);
        crl.verify(makerCa(dir).getPublicKey());
        assertThat(crl.getRevokedCertificates()).isNull();
        assertThat(mode(dir.resolve("maker-ca.crl.pem"))).isEqualTo("rw-r--r--");
    }

    @Test
    void openssl_finds_a_revoked_idevid_in_the_maker_crl() throws Exception {
        Assumptions.assumeTrue(openssl("version") == 0, "openssl is not installed");
        Path dir = initialized();
        run(ENV, "issue", "--dir", dir.toString(), "--devices", "d1,d2");
        run(ENV, "revoke", "--dir", dir.toString(), "--devices", "d1");
        for (String id : List.of("d1", "d2")) {
            Files.writeString(temp.resolve(id + ".pem"),
                    Certificates.toPem(List.of((X509Certificate) idevid(dir, id).getCertificate())));
        }

        List<String> revoked = new ArrayList<>();
        int revokedStatus = openssl(revoked, "verify", "-crl_check", "-CAfile", dir.resolve("maker-ca.pem").toString(),
                "-CRLfile", dir.resolve("maker-ca.crl.pem").toString(), temp.resolve("d1.pem").toString());
        List<String> good = new ArrayList<>();
        int goodStatus = openssl(good, "verify", "-crl_check", "-CAfile", dir.resolve("maker-ca.pem").toString(),
                "-CRLfile", dir.resolve("maker-ca.crl.pem").toString(), temp.resolve("d2.pem").toString());

        assertThat(revokedStatus).isNotZero();
        assertThat(String.join("\n", revoked)).contains("certificate revoked");
        assertThat(goodStatus).as(String.join("\n", good)).isZero();
        assertThat(String.join("\n", good)).contains("OK");
    }

    @Test
    void a_bad_device_id_is_a_usage_error() {
        Path dir = initialized();

        Result result = run(ENV, "issue", "--dir", dir.toString(), "--devices", "ok-1,not/ok");

        assertThat(result.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(result.err()).contains("device id 'not/ok' is not valid");
        assertThat(dir.resolve("devices/ok-1.p12")).doesNotExist();
    }

    @Test
    void a_missing_directory_says_to_run_init_first() {
        Result result = run(ENV, "issue", "--dir", temp.resolve("nowhere").toString(), "--devices", "d1");

        assertThat(result.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(result.err()).contains("has no maker CA", "factory init");
    }

    @Test
    void a_missing_password_names_the_variable() throws Exception {
        Path dir = initialized();

        Result result = run(Map.of(), "issue", "--dir", dir.toString(), "--devices", "d1");

        assertThat(result.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(result.err()).contains("no password", FactoryCommand.PASSWORD_ENV);
    }

    @Test
    void a_wrong_password_names_the_variable_and_prints_no_password() throws Exception {
        Path dir = initialized();

        Result result = run(Map.of(FactoryCommand.PASSWORD_ENV, "not the password"), "revoke", "--dir", dir.toString(),
                "--devices", "d1");

        assertThat(result.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(result.err()).contains("does not open", FactoryCommand.PASSWORD_ENV).doesNotContain("not the password");
    }

    @Test
    void revoking_an_unknown_device_or_serial_is_a_usage_error() throws Exception {
        Path dir = initialized();
        run(ENV, "issue", "--dir", dir.toString(), "--devices", "d1");

        assertThat(run(ENV, "revoke", "--dir", dir.toString(), "--devices", "d9").err()).contains("device 'd9' has no IDevID");
        assertThat(run(ENV, "revoke", "--dir", dir.toString(), "--serial", "abc123").err()).contains("was not issued");
        assertThat(run(ENV, "revoke", "--dir", dir.toString(), "--reason", "certificateHold", "--devices", "d1").err())
                .contains("--reason must be one of");
        assertThat(dir.resolve("maker-ca.crl.pem")).doesNotExist();
    }

    @Test
    void options_are_checked_before_anything_is_written() {
        assertThat(run(ENV, "init", "--dir", temp.resolve("a").toString(), "--maker", "Acme", "--key", "ed25519").err())
                .contains("--key must be one of [p256, p384, rsa2048]");
        assertThat(run(ENV, "init", "--dir", temp.resolve("a").toString(), "--maker", "Acme", "--validity", "20x").err())
                .contains("--validity needs years or days");
        assertThat(run(Map.of(FactoryCommand.PASSWORD_ENV, "short"), "init", "--dir", temp.resolve("a").toString(),
                "--maker", "Acme").err()).contains("shorter than 12");
        assertThat(temp.resolve("a")).doesNotExist();
        Path dir = initialized();
        assertThat(run(ENV, "issue", "--dir", dir.toString()).err()).contains("either as --devices");
        assertThat(run(ENV, "issue", "--dir", dir.toString(), "--prefix", "x".repeat(60), "--count", "2").err())
                .contains("break the rule");
        assertThat(run(ENV, "launch", "--dir", dir.toString()).err()).contains("unknown factory command 'launch'");
    }

    @Test
    void register_refuses_plain_http() throws Exception {
        Path dir = initialized();
        Files.writeString(temp.resolve("chain.pem"), Files.readString(dir.resolve("maker-ca.pem")));

        Result result = run(Map.of("FLEETKEY_ADMIN_TOKEN", "t0ken-t0ken-t0ken"), "register", "--dir", dir.toString(),
                "--server", "http://fleetkey.example.com:8443", "--ca-cert", temp.resolve("chain.pem").toString(),
                "--group", "meters");

        assertThat(result.status()).isEqualTo(FactoryCommand.USAGE);
        assertThat(result.err()).contains("plain http", "https://fleetkey.example.com:8443");
    }

    private int openssl(String... args) throws Exception {
        return openssl(new ArrayList<>(), args);
    }

    private static int openssl(List<String> output, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(Arrays.asList(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return -1;
        }
        output.addAll(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
