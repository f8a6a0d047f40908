package io.fleetkey.server.transport.coap;

import static io.fleetkey.server.testing.Processes.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.Processes;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 9148 driven by a client nobody here wrote: libcoap's {@code coap-client-openssl} speaks
 * CoAP over DTLS (OpenSSL), {@code openssl} makes keys and CSRs and checks what came back.
 * libcoap 4.3.1 exits 0 whatever happens, so every check looks at its output and files.
 */
class EstCoapsWithLibcoapIT {
    private static final String CLIENT = "coap-client-openssl";

    private static TestServer server;
    private static TestPki.Ca maker;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        boolean installed = onPath(CLIENT);
        if (!installed && System.getenv("CI") == null) {
            Assumptions.abort(CLIENT + " is not installed (Debian: apt-get install libcoap3-bin); skipped outside CI");
        }
        if (!installed) {
            fail(CLIENT + " is required in CI (Debian: apt-get install libcoap3-bin)");
        }
        server = TestServer.start();
        server.createGroup("meters", "device");
        maker = TestPki.ca("Acme Sensors Manufacturing CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "acme-sensors", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private String url(String path) {
        return "coaps://127.0.0.1:" + server.coapsPort() + path;
    }

    /** Runs the libcoap client in the work folder; its exit code means nothing, so only the output is returned. */
    private String coap(String... args) {
        List<String> command = new ArrayList<>(List.of(CLIENT, "-B", "20"));
        command.addAll(Arrays.asList(args));
        return Processes.run(work, command.toArray(String[]::new)).output();
    }

    /** The server's CA chain, for libcoap to authenticate the server (-C) and for openssl verify. */
    private void copyChain() throws Exception {
        Files.copy(server.caChainPem(), work.resolve("chain.pem"));
    }

    private void assertWritten(String file, String coapOutput) {
        assertThat(work.resolve(file)).as("libcoap wrote no %s; it said:%n%s", file, coapOutput).exists();
        assertThat(work.resolve(file).toFile().length()).as(coapOutput).isPositive();
    }

    // ---- crts and discovery -----------------------------------------------------------------

    @Test
    void nonce_hands_out_a_fresh_freshness_nonce_as_json() throws Exception {
        copyChain();
        String out = coap("-m", "get", "-C", "chain.pem", "-o", "nonce.json", url("/.well-known/est/nonce"));
        assertWritten("nonce.json", out);
        String first = Files.readString(work.resolve("nonce.json"));
        assertThat(io.fleetkey.server.testing.Json.field(first, "nonce")).matches("[A-Za-z0-9_-]{43}");
        assertThat(io.fleetkey.server.testing.Json.field(first, "expiry")).isEqualTo("600");
        coap("-m", "get", "-C", "chain.pem", "-o", "nonce2.json", url("/.well-known/est/nonce"));
        assertThat(Files.readString(work.resolve("nonce2.json"))).isNotEqualTo(first);
    }

    @Test
    void crts_answers_certs_only_pkcs7_by_default_and_the_issuing_ca_for_accept_287() throws Exception {
        copyChain();
        String out = coap("-m", "get", "-A", "281", "-C", "chain.pem", "-o", "crts-281.p7", url("/.well-known/est/crts"));
        assertWritten("crts-281.p7", out);
        String certs = ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "crts-281.p7", "-print_certs");
        assertThat(certs).contains("Fleetkey Issuing CA").contains("Fleetkey Root CA");

        // RFC 9148 §4.1: without Accept, the server SHOULD answer 281. (Here in 64-byte Block2 blocks.)
        out = coap("-m", "get", "-b", "64", "-C", "chain.pem", "-o", "crts-default.p7", url("/.well-known/est/crts"));
        assertWritten("crts-default.p7", out);
        assertThat(ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "crts-default.p7", "-print_certs"))
                .isEqualTo(certs);

        out = coap("-m", "get", "-A", "287", "-C", "chain.pem", "-o", "crt.der", url("/.well-known/est/crts"));
        assertWritten("crt.der", out);
        assertThat(ok(work, "openssl", "x509", "-inform", "DER", "-in", "crt.der", "-noout", "-subject"))
                .contains("Fleetkey Issuing CA");
        assertThat(Files.readAllBytes(work.resolve("crt.der"))).isEqualTo(Certificates.toDer(server.caChain().get(0)));
    }

    @Test
    void discovery_lists_the_est_resources_with_their_types_and_formats() throws Exception {
        copyChain();
        String out = coap("-m", "get", "-C", "chain.pem", "-o", "core.txt", url("/.well-known/core?rt=ace.est*"));
        assertWritten("core.txt", out);
        Map<String, List<String>> links = links(Files.readString(work.resolve("core.txt")));
        // ct lists what a client may put in Accept (RFC 9148 §4.1).
        for (String op : List.of("crts", "sen", "sren")) {
            assertThat(links).as(links.toString()).containsKey("</.well-known/est/" + op + ">");
            assertThat(links.get("</.well-known/est/" + op + ">"))
                    .contains("rt=\"ace.est." + op + "\"", "ct=\"281 287\"");
        }
        assertThat(links.get("</.well-known/est/att>")).contains("rt=\"ace.est.att\"", "ct=285");
        // The filter worked: nothing without an ace.est resource type.
        assertThat(links.values()).allSatisfy(attrs -> assertThat(attrs).anyMatch(a -> a.startsWith("rt=\"ace.est.")));
    }

    /** Link-format (RFC 6690) into target → attributes; good enough for these attribute values. */
    private static Map<String, List<String>> links(String linkFormat) {
        Map<String, List<String>> links = new HashMap<>();
        for (String link : linkFormat.trim().split(",")) {
            String[] parts = link.split(";");
            links.put(parts[0].trim(), Arrays.stream(parts).skip(1).map(String::trim).toList());
        }
        return links;
    }

    // ---- enrollment -----------------------------------------------------------------------------

    @Test
    void factory_certificate_enrolls_with_64_byte_blocks_both_ways() throws Exception {
        copyChain();
        String id = "acme-0001";
        server.registerDevice(id, "acme-sensors");
        // The IDevID a maker put on the device, as PEM files libcoap reads.
        KeyPair idevidKeys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=Acme Sensor,SERIALNUMBER=" + id, idevidKeys, Duration.ofDays(3650));
        Files.writeString(work.resolve("idevid.pem"), Certificates.toPem(List.of(idevid)));
        Files.writeString(work.resolve("idevid.key"), pkcs8Pem(idevidKeys));
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "device.key", "-subj", "/CN=" + id, "-outform", "DER", "-out", "device.csr");

        // -b 64 splits the CSR into Block1 blocks; libcoap 4.3.1 asks for small response blocks only on
        // GET, so the early Block2 negotiation (option 23, SZX 2 = 64 bytes) is added by hand.
        // -v 6 dumps the PDUs, which shows the block options on the wire.
        String out = coap("-v", "6", "-c", "idevid.pem", "-j", "idevid.key", "-C", "chain.pem",
                "-m", "post", "-t", "286", "-A", "281", "-b", "64", "-O", "23,0x02", "-f", "device.csr", "-o", "device.p7",
                url("/.well-known/est/sen"));

        assertWritten("device.p7", out);
        assertThat(out).as(out).containsPattern("t:CON c:POST .*Block1:0/M/64");
        assertThat(out).as(out).containsPattern("c:2\\.04 .*Block2:0/M/64, Block1:[1-9]\\d*/_/64");
        assertThat(count(out, "c:2\\.04 .*Block2:\\d+/M/64")).as(out).isGreaterThanOrEqualTo(2);
        assertThat(out).as(out).containsPattern("c:2\\.04 .*Block2:[1-9]\\d*/_/64");
        ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "device.p7", "-print_certs", "-out", "device.pem");
        assertThat(ok(work, "openssl", "verify", "-CAfile", "chain.pem", "-purpose", "sslclient", "device.pem"))
                .contains("device.pem: OK");
        assertThat(ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-subject")).contains("CN = " + id);
        assertSameKey("device.pem", "device.key");
        assertThat(Json.field(server.api("GET", "/api/v1/devices/" + id, null).body(), "status")).isEqualTo("ENROLLED");
    }

    @Test
    void token_in_the_csr_enrolls_a_device_without_any_certificate() throws Exception {
        copyChain();
        enrollWithTokenInCsr("meter-0001");
        assertThat(ok(work, "openssl", "verify", "-CAfile", "chain.pem", "-purpose", "sslclient", "device.pem"))
                .contains("device.pem: OK");
        assertSameKey("device.pem", "device.key");
    }

    @Test
    void fleetkey_certificate_as_dtls_client_certificate_renews() throws Exception {
        copyChain();
        String id = "meter-0002";
        enrollWithTokenInCsr(id);
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "renewed.key", "-subj", "/CN=" + id, "-outform", "DER", "-out", "renew.csr");

        String out = coap("-c", "device.pem", "-j", "device.key", "-C", "chain.pem", "-m", "post", "-t", "286",
                "-f", "renew.csr", "-o", "renewed.p7", url("/.well-known/est/sren"));

        assertWritten("renewed.p7", out);
        ok(work, "openssl", "pkcs7", "-inform", "DER", "-in", "renewed.p7", "-print_certs", "-out", "renewed.pem");
        assertThat(ok(work, "openssl", "verify", "-CAfile", "chain.pem", "renewed.pem")).contains("renewed.pem: OK");
        assertSameKey("renewed.pem", "renewed.key");
        assertThat(ok(work, "openssl", "x509", "-in", "renewed.pem", "-noout", "-serial"))
                .isNotEqualTo(ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-serial"));
        assertThat(Json.parse(server.api("GET", "/api/v1/devices/" + id, null).body()).get("certificates")).hasSize(2);
    }

    /**
     * Registers the device and enrolls it as a device with no certificate would: the one-time
     * token in the CSR's challengePassword, over a DTLS session that authenticates only the
     * server. Leaves device.key and device.pem in the work folder.
     */
    private void enrollWithTokenInCsr(String id) throws Exception {
        String token = server.registerDevice(id, "meters");
        Files.writeString(work.resolve("req.cnf"), String.join("\n", "[req]", "prompt = no",
                "distinguished_name = dn", "attributes = attrs", "[dn]", "CN = " + id, "[attrs]",
                "challengePassword = " + token, ""));
        ok(work, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "device.key");
        ok(work, "openssl", "req", "-new", "-key", "device.key", "-config", "req.cnf", "-outform", "DER",
                "-out", "device.csr");

        // No -c: libcoap answers the CertificateRequest with no certificate; -C makes it check the server.
        String out = coap("-C", "chain.pem", "-m", "post", "-t", "286", "-A", "287", "-f", "device.csr",
                "-o", "device.der", url("/.well-known/est/sen"));

        assertWritten("device.der", out);
        ok(work, "openssl", "x509", "-inform", "DER", "-in", "device.der", "-out", "device.pem");
        assertThat(ok(work, "openssl", "x509", "-in", "device.pem", "-noout", "-subject")).contains("CN = " + id);
    }

    @Test
    void libcoap_with_another_trust_anchor_refuses_the_server() throws Exception {
        // The check that makes "-C chain.pem" mean something: the server is verified, not just encrypted to.
        Files.writeString(work.resolve("other.pem"), Certificates.toPem(List.of(TestPki.ca("Some Other CA").certificate())));
        String out = coap("-C", "other.pem", "-m", "get", "-o", "crts.p7", url("/.well-known/est/crts"));
        assertThat(out).contains("certificate verify failed");
        assertThat(work.resolve("crts.p7")).doesNotExist();
    }

    // ---- refusals as libcoap shows them ----------------------------------------------------------

    @Test
    void refusals_come_as_code_and_diagnostic() throws Exception {
        copyChain();
        ok(work, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "k.key", "-subj", "/CN=meter-0003", "-outform", "DER", "-out", "k.csr");
        String out = coap("-C", "chain.pem", "-m", "post", "-t", "0", "-f", "k.csr", "-o", "x.p7",
                url("/.well-known/est/sen"));
        assertThat(out).contains("4.15 UNSUPPORTED_MEDIA_TYPE").contains("286");
        out = coap("-C", "chain.pem", "-m", "post", "-t", "286", "-f", "k.csr", "-o", "x.p7",
                url("/.well-known/est/sren"));
        assertThat(out).contains("4.01 NOT_AUTHENTICATED");
        assertThat(work.resolve("x.p7")).doesNotExist();
    }

    @Test
    void untrusted_self_signed_client_certificate_ends_in_a_fatal_alert() throws Exception {
        copyChain();
        ok(work, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "self.key", "-out", "self.pem", "-subj", "/CN=intruder", "-days", "1");
        String out = coap("-c", "self.pem", "-j", "self.key", "-C", "chain.pem", "-m", "get", "-o", "crts.p7",
                url("/.well-known/est/crts"));
        assertThat(out).containsIgnoringCase("alert").containsIgnoringCase("bad certificate");
        assertThat(work.resolve("crts.p7")).doesNotExist();
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private void assertSameKey(String certPem, String keyPem) {
        String certKey = ok(work, "openssl", "x509", "-in", certPem, "-noout", "-pubkey");
        String key = ok(work, "openssl", "pkey", "-in", keyPem, "-pubout");
        assertThat(certKey.trim()).isEqualTo(key.trim());
    }

    private static long count(String text, String regex) {
        Pattern p = Pattern.compile(regex);
        return text.lines().filter(l -> p.matcher(l).find()).count();
    }

    private static String pkcs8Pem(KeyPair keys) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        return Arrays.stream(path.split(File.pathSeparator)).map(dir -> new File(dir, program))
                .anyMatch(f -> f.isFile() && f.canExecute());
    }
}
