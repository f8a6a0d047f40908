package io.fleetkey.protocol;

/**
 * Media types of EST messages (RFC 7030 §3.2.4, §4) and their CoAP content-format numbers
 * (RFC 9148 §5). One place for both sides of the wire.
 */
public final class EstMediaTypes {
    /** PKCS#10 certification request, RFC 7030 §4.2.1. */
    public static final String PKCS10 = "application/pkcs10";
    /** Certs-only CMS SignedData, RFC 7030 §4.1.3 and §4.2.3. */
    public static final String PKCS7_CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only";
    /** Base type of {@link #PKCS7_CERTS_ONLY}, for matching responses that drop the parameter. */
    public static final String PKCS7_MIME = "application/pkcs7-mime";
    /** CSR attributes, RFC 7030 §4.5.2. */
    public static final String CSR_ATTRS = "application/csrattrs";
    /** A single DER certificate (RFC 9148 §5 allows it in place of PKCS#7). */
    public static final String PKIX_CERT = "application/pkix-cert";
    /** A freshness nonce (draft-ietf-lamps-attestation-freshness): {@code {"nonce": ..., "expiry": seconds}}. */
    public static final String ATTESTATION_FRESHNESS_JSON = "application/est-attestation-freshness+json";
    /** A PEM certificate chain, RFC 8555 §9.1. */
    public static final String PEM_CHAIN = "application/pem-certificate-chain";

    /** RFC 9148 §5: CoAP content-format for application/pkcs7-mime; smime-type=certs-only. */
    public static final int COAP_PKCS7_CERTS_ONLY = 281;
    /** RFC 9148 §5: CoAP content-format for application/csrattrs. */
    public static final int COAP_CSR_ATTRS = 285;
    /** RFC 9148 §5: CoAP content-format for application/pkcs10. */
    public static final int COAP_PKCS10 = 286;
    /** RFC 9148 §5: CoAP content-format for application/pkix-cert. */
    public static final int COAP_PKIX_CERT = 287;

    private EstMediaTypes() {
    }
}
