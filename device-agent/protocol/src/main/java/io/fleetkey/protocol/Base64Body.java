package io.fleetkey.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The base64 transfer encoding of EST over HTTPS (RFC 7030 §4, "Content-Transfer-Encoding:
 * base64" per RFC 2045): line breaks are allowed in what we read and written in what we send.
 * Lines end in LF alone, as OpenSSL-based EST servers write them, so that {@code base64 -d}
 * and {@code openssl base64 -d} both read our answers.
 * Unlike {@link Base64#getMimeDecoder()}, which silently skips characters outside the
 * alphabet, decoding here rejects anything but the alphabet and white space.
 */
public final class Base64Body {
    private static final Base64.Encoder ENCODER =
            Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

    private Base64Body() {
    }

    /** Encodes DER bytes as base64 with a line break every 64 characters. */
    public static String encode(byte[] der) {
        return ENCODER.encodeToString(der) + "\n";
    }

    /**
     * Decodes a base64 body, ignoring white space.
     *
     * @throws IllegalArgumentException with a readable reason when the text is not base64
     */
    public static byte[] decode(String body) {
        StringBuilder compact = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (!Character.isWhitespace(c)) {
                compact.append(c);
            }
        }
        if (compact.length() == 0) {
            throw new IllegalArgumentException("the body is empty; expected base64-encoded DER");
        }
        try {
            return Base64.getDecoder().decode(compact.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the body is not valid base64: " + e.getMessage(), e);
        }
    }
}
