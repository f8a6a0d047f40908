package io.fleetkey.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import io.fleetkey.protocol.FailureCode;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** What every door's client does with an answer: find the issued certificate, read a reason safely. */
final class EstAnswers {
    /** Reasons are shortened to this many characters. */
    static final int MAX_REASON_CHARS = 400;

    private EstAnswers() {
    }

    /**
     * The DER SubjectPublicKeyInfo of the CSR, to find the certificate issued for it.
     *
     * @throws IllegalArgumentException when the bytes are not a DER PKCS#10 request
     */
    static byte[] requestedKey(byte[] csrDer) {
        try {
            return new PKCS10CertificationRequest(csrDer).getSubjectPublicKeyInfo().getEncoded();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the CSR is not a DER PKCS#10 request", e);
        }
    }

    /** RFC 7030 §4.2.3 answers with the issued certificate alone; pick it by key in case a server adds its CAs. */
    static Optional<X509Certificate> issuedFor(byte[] requestedKey, List<X509Certificate> certificates) {
        return certificates.stream()
                .filter(c -> Arrays.equals(c.getPublicKey().getEncoded(), requestedKey))
                .findFirst();
    }

    /** A failure code the server named, if this agent knows it. */
    static Optional<FailureCode> failureCode(String name) {
        try {
            return Optional.of(FailureCode.valueOf(name.trim()));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // a code newer than this agent: the status and reason still tell the story
        }
    }

    /** The server's text as one printable line, shortened; a hostile server cannot drive the terminal. */
    static String readable(byte[] body, String fallback) {
        if (body == null) {
            return fallback;
        }
        String text = printable(new String(body, 0, Math.min(body.length, MAX_REASON_CHARS * 4), StandardCharsets.UTF_8))
                .trim();
        if (text.isEmpty()) {
            return fallback;
        }
        return text.length() > MAX_REASON_CHARS ? text.substring(0, MAX_REASON_CHARS) + "..." : text;
    }

    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean space = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                space = true;
                continue;
            }
            if (space && out.length() > 0) {
                out.append(' ');
            }
            space = false;
            out.append(c);
        }
        return out.toString();
    }
}
