package io.fleetkey.server.authority;

import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;

/**
 * The issuing CA's key, behind Bouncy Castle's operator layer so it can live in software
 * today and in a PKCS#11 token later. Thread-safe; each call to {@link #newContentSigner()}
 * returns a signer for one signature, to be used on the calling thread before that thread asks
 * for the next one (an implementation may reuse one JCA {@code Signature} per thread).
 */
public interface CaSigner {
    /** The issuing CA certificate. */
    X509Certificate certificate();

    /** Issuing CA first, root last. */
    List<X509Certificate> chain();

    ContentSigner newContentSigner();
}
