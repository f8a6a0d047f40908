package io.fleetkey.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bouncycastle.operator.ContentSigner;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CA signer reuses one JCA Signature per thread: every signature it makes must verify, also
 * after a signer was abandoned half-way on the same thread and with several threads at once.
 */
class SoftwareCaSignerTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"BC", "JDK"})
    void every_signature_verifies_even_after_an_abandoned_one_and_across_threads(String providerName) throws Exception {
        CryptoProvider provider = CryptoProvider.named(providerName);
        CaKeystore.IssuingCa ca = CaKeystore.loadOrCreate(new CaKeystore.Settings(dir, "pw-0123456789", "P-256", null,
                null, null, null, null), provider, Instant.now());
        SoftwareCaSigner signer = new SoftwareCaSigner(ca.key(), ca.chain(), provider);

        ContentSigner abandoned = signer.newContentSigner();
        abandoned.getOutputStream().write("written, never signed".getBytes(StandardCharsets.UTF_8));
        assertThat(verifies(signer, "the next one starts clean")).isTrue();

        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String message = "message " + i;
                results.add(threads.submit(() -> verifies(signer, message)));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(signer.newContentSigner().getAlgorithmIdentifier().getAlgorithm().getId())
                .isEqualTo("1.2.840.10045.4.3.2"); // ecdsa-with-SHA256
    }

    private static boolean verifies(SoftwareCaSigner signer, String message) throws Exception {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        ContentSigner contentSigner = signer.newContentSigner();
        try (OutputStream out = contentSigner.getOutputStream()) {
            out.write(bytes, 0, 3);
            out.write(bytes, 3, bytes.length - 3);
        }
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(signer.certificate().getPublicKey());
        verifier.update(bytes);
        return verifier.verify(contentSigner.getSignature());
    }
}
