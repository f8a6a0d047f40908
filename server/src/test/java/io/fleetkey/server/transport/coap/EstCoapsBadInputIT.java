package io.fleetkey.server.transport.coap;

import static io.fleetkey.server.testing.CoapsTestClient.EST;
import static io.fleetkey.server.testing.CoapsTestClient.describe;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.testing.CoapsTestClient;
import io.fleetkey.server.testing.Json;
import io.fleetkey.server.testing.TestPki;
import io.fleetkey.server.testing.TestServer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad EST-coaps request gets its precise CoAP code and a readable diagnostic —
 * never a bare RST, a 5.00 or a silent drop where an answer is due — and the door keeps
 * serving: after every test a fresh device still enrolls.
 */
class EstCoapsBadInputIT {
    /** Small enough to reach with one datagram, large enough for any honest CSR. */
    private static final int MAX_REQUEST_BYTES = 2048;
    private static final int APPROVAL_RETRY_SECONDS = 7;
    private static final int CF_TEXT = MediaTypeRegistry.TEXT_PLAIN;
    private static final int CF_PKCS10 = 286;
    private static final int CF_CERTS_ONLY = 281;
    private static final int CF_PKIX_CERT = 287;

    private static TestServer server;
    private static TestPki.Ca maker;
    private static int deviceCounter;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(
                "fleetkey.enrollment.max-request-bytes", MAX_REQUEST_BYTES,
                "fleetkey.enrollment.approval-retry-after", APPROVAL_RETRY_SECONDS + "s",
                // Short, so the test can watch a half-done upload being forgotten.
                "fleetkey.coaps.blockwise-lifetime", "1s"));
        server.createGroup("sensors", "device");
        maker = TestPki.ca("Bad Input Maker CA");
        var r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "factory", "profile", "device",
                "makerCas", List.of(Certificates.toPem(List.of(maker.certificate()))))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        r = server.api("POST", "/api/v1/groups", Json.write(Map.of("name", "vaults", "profile", "device",
                "requireApproval", true)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Whatever the test threw at the door, an honest device enrolls right after it. */
    @AfterEach
    void door_still_enrolls_a_good_device() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        KeyPair keys = TestPki.p256();
        try (CoapsTestClient c = anonymous()) {
            CoapResponse r = c.enroll("sen", TestPki.csrWithToken(id, keys, token), CF_PKIX_CERT);
            assertThat(r).as("no answer to a good enrollment").isNotNull();
            assertThat(r.getCode()).as(describe(r)).isEqualTo(ResponseCode.CHANGED);
            assertThat(Certificates.fromDer(r.getPayload()).getPublicKey()).isEqualTo(keys.getPublic());
        }
    }

    private static synchronized String newDeviceId() {
        return "coap-bad-" + (++deviceCounter);
    }

    private static CoapsTestClient anonymous() {
        return CoapsTestClient.to(server).timeout(Duration.ofSeconds(10)).build();
    }

    /** A client that writes Block1/Size1 itself instead of letting Californium split the body. */
    private static CoapsTestClient raw() {
        return CoapsTestClient.to(server).rawBlockwise().timeout(Duration.ofSeconds(10)).build();
    }

    private static void assertRefused(CoapResponse r, ResponseCode code, String... reasonParts) {
        assertThat(r).as("no answer").isNotNull();
        assertThat(r.getCode()).as(describe(r)).isEqualTo(code);
        assertThat(r.getOptions().getContentFormat()).as("diagnostic payload is text/plain: " + describe(r))
                .isEqualTo(CF_TEXT);
        for (String part : reasonParts) {
            assertThat(r.getResponseText()).containsIgnoringCase(part);
        }
        assertThat(r.getResponseText()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private static byte[] goodCsr() {
        return TestPki.csr(newDeviceId(), TestPki.p256());
    }

    // ---- payload and options --------------------------------------------------------------

    @Test
    void malformed_der_is_refused_with_4_00() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", "this is not a certification request".getBytes(StandardCharsets.US_ASCII),
                    -1), ResponseCode.BAD_REQUEST, "MALFORMED_REQUEST", "PKCS#10");
            assertRefused(c.enroll("sen", new byte[0], -1), ResponseCode.BAD_REQUEST, "MALFORMED_REQUEST", "empty");
        }
    }

    @Test
    void csr_with_a_bad_signature_is_refused_with_4_00() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", TestPki.csrWithForeignSignature(newDeviceId()), -1),
                    ResponseCode.BAD_REQUEST, "BAD_CSR_SIGNATURE");
        }
    }

    @Test
    void wrong_content_format_is_refused_with_4_15() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.post(EST + "sen", goodCsr(), CF_TEXT, -1), ResponseCode.UNSUPPORTED_CONTENT_FORMAT,
                    "Content-Format 0 is not accepted", "286");
            // A certificate format is what comes back, not what goes in.
            assertRefused(c.post(EST + "sren", goodCsr(), CF_PKIX_CERT, -1), ResponseCode.UNSUPPORTED_CONTENT_FORMAT,
                    "287", "286");
        }
    }

    @Test
    void missing_content_format_is_refused_with_4_15() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.post(EST + "sen", goodCsr(), -1, -1), ResponseCode.UNSUPPORTED_CONTENT_FORMAT,
                    "no Content-Format", "286");
        }
    }

    @Test
    void unsupported_accept_is_refused_with_4_06() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", goodCsr(), MediaTypeRegistry.APPLICATION_JSON), ResponseCode.NOT_ACCEPTABLE,
                    "Accept 50", "281 or 287");
            assertRefused(c.get(EST + "crts", CF_PKCS10), ResponseCode.NOT_ACCEPTABLE, "Accept 286", "281 or 287");
            assertRefused(c.get(EST + "att", CF_CERTS_ONLY), ResponseCode.NOT_ACCEPTABLE, "Accept 281", "285");
        }
    }

    @Test
    void unknown_path_is_4_04() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            // (A single segment under /.well-known/est is taken as an RFC 9148 CA label, so those are not here.)
            for (String path : List.of("/est/sen", "/.well-known/sen", EST + "sen/extra", EST + "some-label/nope")) {
                CoapResponse r = c.post(path, goodCsr(), CF_PKCS10, -1);
                assertThat(r).as(path).isNotNull();
                assertThat(r.getCode()).as(path + ": " + describe(r)).isEqualTo(ResponseCode.NOT_FOUND);
            }
        }
    }

    @Test
    void wrong_method_is_4_05_with_the_right_one_named() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.get(EST + "sen", -1), ResponseCode.METHOD_NOT_ALLOWED, "POST", "286");
            assertRefused(c.get(EST + "sren", -1), ResponseCode.METHOD_NOT_ALLOWED, "POST");
            assertRefused(c.post(EST + "crts", goodCsr(), CF_PKCS10, -1), ResponseCode.METHOD_NOT_ALLOWED, "GET");
        }
    }

    // ---- size limits and block-wise transfers ---------------------------------------------

    @Test
    void block1_upload_announcing_a_size_over_the_limit_is_refused_with_4_13_at_once() throws Exception {
        try (CoapsTestClient c = raw()) {
            byte[] body = new byte[4 * MAX_REQUEST_BYTES];
            CoapResponse r = c.send(block(c, "sen", body, 0, 64, true, body.length));
            assertThat(r).isNotNull();
            assertThat(r.getCode()).as(describe(r)).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
            // RFC 7959 §2.9.3: the 4.13 tells the client the largest body the server takes.
            assertThat(r.getOptions().getSize1()).isEqualTo(MAX_REQUEST_BYTES);
            assertThat(r.getResponseText()).contains(String.valueOf(MAX_REQUEST_BYTES));
        }
    }

    @Test
    void block1_upload_without_size1_is_cut_off_at_the_limit_with_4_13() throws Exception {
        try (CoapsTestClient c = raw()) {
            byte[] body = new byte[MAX_REQUEST_BYTES + 256];
            CoapResponse last = null;
            int num = 0;
            for (; num * 64 < body.length; num++) {
                last = c.send(block(c, "sen", body, num, 64, true, null));
                assertThat(last).as("block " + num).isNotNull();
                if (last.getCode() != ResponseCode.CONTINUE) {
                    break;
                }
            }
            assertThat(last.getCode()).as(describe(last)).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
            assertThat(num * 64).as("the block that overflowed").isEqualTo(MAX_REQUEST_BYTES);
        }
    }

    @Test
    void single_datagram_over_the_limit_is_refused_with_4_13() throws Exception {
        // Block-wise limits do not see a request that fits in one datagram; the resource must.
        byte[] body = Arrays.copyOf(goodCsr(), MAX_REQUEST_BYTES + 500);
        try (CoapsTestClient c = raw()) {
            assertRefused(c.enroll("sen", body, -1), ResponseCode.REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE",
                    (MAX_REQUEST_BYTES + 500) + " bytes", "at most " + MAX_REQUEST_BYTES);
        }
    }

    @Test
    void block1_upload_jumping_ahead_is_refused_with_4_08() throws Exception {
        try (CoapsTestClient c = raw()) {
            byte[] csr = goodCsr();
            CoapResponse first = c.send(block(c, "sen", csr, 0, 64, true, csr.length));
            assertThat(first.getCode()).as(describe(first)).isEqualTo(ResponseCode.CONTINUE);
            CoapResponse skipped = c.send(block(c, "sen", csr, 2, 64, true, null));
            assertThat(skipped.getCode()).as(describe(skipped)).isEqualTo(ResponseCode.REQUEST_ENTITY_INCOMPLETE);
            assertThat(skipped.getResponseText()).contains("offset 128").contains("position 64");

            // Starting at block 1 without a block 0 is just as incomplete.
            CoapResponse noStart = c.send(block(c, "sen", csr, 1, 64, true, null));
            assertThat(noStart.getCode()).as(describe(noStart)).isEqualTo(ResponseCode.REQUEST_ENTITY_INCOMPLETE);
        }
    }

    @Test
    void abandoned_block1_upload_issues_nothing_and_is_forgotten() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csrWithToken(id, keys, token);
        try (CoapsTestClient c = raw()) {
            CoapResponse first = c.send(block(c, "sen", csr, 0, 64, true, csr.length));
            assertThat(first.getCode()).as(describe(first)).isEqualTo(ResponseCode.CONTINUE);
            assertThat(first.getOptions().getBlock1().isM()).isTrue();
            // ...and the device falls silent. Nothing reached the enrollment core.
            JsonNode device = Json.parse(server.api("GET", "/api/v1/devices/" + id, null).body());
            assertThat(device.get("certificates")).isEmpty();

            // After the block-wise lifetime (1 s here; Californium sweeps every 5 s) the half upload is
            // gone: its next block now lands on a fresh, empty transfer and is 4.08, not 2.31.
            Thread.sleep(7_500);
            CoapResponse late = c.send(block(c, "sen", csr, 1, 64, true, null));
            assertThat(late.getCode()).as(describe(late)).isEqualTo(ResponseCode.REQUEST_ENTITY_INCOMPLETE);

            // The same device, same session, starts over at block 0 and enrolls.
            CoapResponse done = uploadInBlocks(c, "sen", csr, 64);
            assertThat(done.getCode()).as(describe(done)).isEqualTo(ResponseCode.CHANGED);
            assertThat(Certificates.fromPkcs7CertsOnly(done.getPayload()).get(0).getPublicKey())
                    .isEqualTo(keys.getPublic());
        }
    }

    @Test
    void restarting_an_upload_at_block_0_replaces_the_half_done_one() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csrWithToken(id, keys, token);
        try (CoapsTestClient c = raw()) {
            byte[] junk = new byte[csr.length];
            Arrays.fill(junk, (byte) 0x30);
            assertThat(c.send(block(c, "sen", junk, 0, 64, true, junk.length)).getCode()).isEqualTo(ResponseCode.CONTINUE);
            assertThat(c.send(block(c, "sen", junk, 1, 64, true, null)).getCode()).isEqualTo(ResponseCode.CONTINUE);
            CoapResponse done = uploadInBlocks(c, "sen", csr, 64);
            assertThat(done.getCode()).as(describe(done)).isEqualTo(ResponseCode.CHANGED);
        }
    }

    /** One block of {@code body} as a POST to an EST operation, Block1 (and Size1) set by hand. */
    private static Request block(CoapsTestClient c, String operation, byte[] body, int num, int size, boolean more,
                                 Integer size1) {
        Request r = Request.newPost();
        r.setURI(c.uri(EST + operation));
        r.getOptions().setContentFormat(CF_PKCS10);
        int from = Math.min(num * size, body.length);
        int to = Math.min(from + size, body.length);
        r.setPayload(Arrays.copyOfRange(body, from, to));
        r.getOptions().setBlock1(BlockOption.size2Szx(size), more && to < body.length, num);
        if (size1 != null) {
            r.getOptions().setSize1(size1);
        }
        return r;
    }

    /** Uploads a whole body block by block, expecting 2.31 Continue in between; returns the final answer. */
    private static CoapResponse uploadInBlocks(CoapsTestClient c, String operation, byte[] body, int size)
            throws Exception {
        int blocks = (body.length + size - 1) / size;
        for (int num = 0; ; num++) {
            CoapResponse r = c.send(block(c, operation, body, num, size, true, num == 0 ? body.length : null));
            assertThat(r).as("block " + num).isNotNull();
            if (num == blocks - 1) {
                return r;
            }
            assertThat(r.getCode()).as("block " + num + ": " + describe(r)).isEqualTo(ResponseCode.CONTINUE);
        }
    }

    // ---- not DTLS at all --------------------------------------------------------------------

    @Test
    void garbage_and_plain_coap_on_the_coaps_port_get_no_answer() throws Exception {
        InetSocketAddress door = new InetSocketAddress("127.0.0.1", server.coapsPort());
        byte[] plainCoapGet = {0x40, 0x01, 0x12, 0x34, // CON GET, message id 0x1234, no token
            (byte) 0xBB, '.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n', 0x04, 'c', 'o', 'r', 'e'};
        byte[] fakeAppData = {23, (byte) 0xFE, (byte) 0xFD, 0, 1, 0, 0, 0, 0, 0, 7, 0, 4, 1, 2, 3, 4};
        List<byte[]> datagrams = List.of("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                plainCoapGet, fakeAppData, new byte[0], new byte[1400]);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            socket.setSoTimeout(1_500);
            for (byte[] d : datagrams) {
                socket.send(new DatagramPacket(d, d.length, door));
            }
            DatagramPacket answer = new DatagramPacket(new byte[2048], 2048);
            // A DTLS server must not answer what is not a DTLS handshake start: no reflection, no amplification.
            assertThatThrownBy(() -> socket.receive(answer)).isInstanceOf(SocketTimeoutException.class);
        }
        // The door still handshakes and serves (and @AfterEach enrolls a device).
        try (CoapsTestClient c = anonymous()) {
            CoapResponse r = c.get(EST + "crts", -1);
            assertThat(r.getCode()).as(describe(r)).isEqualTo(ResponseCode.CONTENT);
        }
    }

    // ---- client certificates in the handshake -----------------------------------------------

    @Test
    void untrusted_self_signed_client_certificate_fails_the_handshake() {
        KeyPair keys = TestPki.p256();
        X509Certificate self = selfSigned("CN=intruder-0001", keys);
        try (CoapsTestClient c = CoapsTestClient.to(server).identity(keys, List.of(self)).build()) {
            assertThatThrownBy(() -> c.enroll("sen", TestPki.csr("intruder-0001", keys), -1))
                    .isInstanceOf(IOException.class).hasCauseInstanceOf(HandshakeException.class)
                    .hasMessageContaining("fatal alert/BAD_CERTIFICATE");
        }
    }

    @Test
    void factory_certificate_of_an_unregistered_maker_fails_the_handshake() {
        TestPki.Ca stranger = TestPki.ca("Unregistered Maker CA");
        KeyPair keys = TestPki.p256();
        X509Certificate idevid = stranger.issue("CN=" + newDeviceId(), keys, Duration.ofDays(30));
        try (CoapsTestClient c = CoapsTestClient.to(server).identity(keys, List.of(idevid, stranger.certificate()))
                .build()) {
            assertThatThrownBy(() -> c.get(EST + "crts", -1))
                    .isInstanceOf(IOException.class).hasCauseInstanceOf(HandshakeException.class)
                    .hasMessageContaining("fatal alert/BAD_CERTIFICATE");
        }
    }

    @Test
    void expired_factory_certificate_of_a_registered_maker_fails_the_handshake() {
        String id = newDeviceId();
        server.registerDevice(id, "factory");
        KeyPair keys = TestPki.p256();
        X509Certificate expired = maker.issue("CN=" + id, keys, Duration.ofSeconds(-1));
        try (CoapsTestClient c = CoapsTestClient.to(server).identity(keys, List.of(expired, maker.certificate()))
                .build()) {
            assertThatThrownBy(() -> c.enroll("sen", TestPki.csr(id, TestPki.p256()), -1))
                    .isInstanceOf(IOException.class).hasCauseInstanceOf(HandshakeException.class)
                    .hasMessageContaining("fatal alert/CERTIFICATE_EXPIRED");
        }
        assertThat(Json.field(server.api("GET", "/api/v1/devices/" + id, null).body(), "status"))
                .isNotEqualTo("ENROLLED");
    }

    @Test
    void factory_certificate_naming_another_device_is_refused_with_4_03() throws Exception {
        String id = newDeviceId();
        server.registerDevice(id, "factory");
        KeyPair keys = TestPki.p256();
        X509Certificate idevid = maker.issue("CN=someone-else", keys, Duration.ofDays(30));
        try (CoapsTestClient c = CoapsTestClient.to(server).identity(keys, List.of(idevid, maker.certificate()))
                .build()) {
            assertRefused(c.enroll("sen", TestPki.csr(id, TestPki.p256()), -1), ResponseCode.FORBIDDEN,
                    "SUBJECT_MISMATCH", "names neither");
        }
    }

    // ---- who may enroll -----------------------------------------------------------------------

    @Test
    void unknown_device_is_refused_with_4_03() throws Exception {
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", TestPki.csrWithToken("nobody-knows-me", TestPki.p256(), "x"), -1),
                    ResponseCode.FORBIDDEN, "UNKNOWN_DEVICE", "not registered");
        }
    }

    @Test
    void csr_without_token_and_without_client_certificate_is_refused_with_4_01() throws Exception {
        String id = newDeviceId();
        server.registerDevice(id, "sensors");
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", TestPki.csr(id, TestPki.p256()), -1), ResponseCode.UNAUTHORIZED,
                    "NOT_AUTHENTICATED", "challengePassword");
        }
    }

    @Test
    void wrong_token_is_refused_with_4_01() throws Exception {
        String id = newDeviceId();
        server.registerDevice(id, "sensors");
        try (CoapsTestClient c = anonymous()) {
            assertRefused(c.enroll("sen", TestPki.csrWithToken(id, TestPki.p256(), "not-the-token"), -1),
                    ResponseCode.UNAUTHORIZED, "NOT_AUTHENTICATED", "token is not valid");
        }
    }

    @Test
    void used_token_is_refused_with_4_03() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        try (CoapsTestClient c = anonymous()) {
            CoapResponse first = c.enroll("sen", TestPki.csrWithToken(id, TestPki.p256(), token), -1);
            assertThat(first.getCode()).as(describe(first)).isEqualTo(ResponseCode.CHANGED);
            // A second key with the same one-time token: not a retry, a reuse.
            assertRefused(c.enroll("sen", TestPki.csrWithToken(id, TestPki.p256(), token), -1),
                    ResponseCode.FORBIDDEN, "TOKEN_USED", "already used");
        }
    }

    @Test
    void reenroll_without_client_certificate_is_refused_with_4_01() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "sensors");
        try (CoapsTestClient c = anonymous()) {
            // Even a valid token does not authenticate a renewal: only the current certificate does.
            assertRefused(c.enroll("sren", TestPki.csrWithToken(id, TestPki.p256(), token), -1),
                    ResponseCode.UNAUTHORIZED, "NOT_AUTHENTICATED", "current Fleetkey certificate");
        }
    }

    // ---- approval -----------------------------------------------------------------------------

    @Test
    void pending_approval_is_5_03_with_max_age_and_the_same_csr_succeeds_once_approved() throws Exception {
        String id = newDeviceId();
        String token = server.registerDevice(id, "vaults");
        KeyPair keys = TestPki.p256();
        byte[] csr = TestPki.csrWithToken(id, keys, token);
        try (CoapsTestClient c = anonymous()) {
            CoapResponse waiting = c.enroll("sen", csr, -1);
            assertThat(waiting.getCode()).as(describe(waiting)).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);
            // RFC 9148 §4.7: Max-Age says when to send the identical CSR again.
            assertThat(waiting.getOptions().hasMaxAge()).isTrue();
            assertThat(waiting.getOptions().getMaxAge()).isEqualTo(APPROVAL_RETRY_SECONDS);
            assertThat(waiting.getOptions().getContentFormat()).isEqualTo(CF_TEXT);
            assertThat(waiting.getResponseText()).contains(id).contains("approval");
            assertThat(Json.field(server.api("GET", "/api/v1/devices/" + id, null).body(), "status"))
                    .isEqualTo("PENDING_APPROVAL");

            // Asking again before approval changes nothing.
            assertThat(c.enroll("sen", csr, -1).getCode()).isEqualTo(ResponseCode.SERVICE_UNAVAILABLE);

            var approved = server.api("POST", "/api/v1/devices/" + id + "/approve", null);
            assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);

            CoapResponse issued = c.enroll("sen", csr, CF_PKIX_CERT);
            assertThat(issued.getCode()).as(describe(issued)).isEqualTo(ResponseCode.CHANGED);
            assertThat(issued.getOptions().getContentFormat()).isEqualTo(CF_PKIX_CERT);
            assertThat(Certificates.fromDer(issued.getPayload()).getPublicKey()).isEqualTo(keys.getPublic());
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** A self-signed end-entity certificate fit for TLS client authentication, trusted by nobody. */
    private static X509Certificate selfSigned(String subject, KeyPair keys) {
        try {
            Instant now = Instant.now();
            X500Name name = new X500Name(subject);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic());
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(new BouncyCastleProvider())
                            .build(keys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
