package io.fleetkey.protocol;

/** Identifiers of evidence carried in a CSR (draft-ietf-lamps-csr-attestation). */
public final class CsrAttestation {
    /** id-aa-attestation: the CSR attribute that carries an AttestationBundle. */
    public static final String ID_AA_ATTESTATION = "1.2.840.113549.1.9.16.2.59";

    /**
     * The statement type of a Fleetkey device statement: an Entity Attestation Token (RFC 9711)
     * in JWT form, the stmt a UTF8String holding the compact JWS. The draft leaves statement
     * OIDs to each format's owner; this one lives under the UUID arc 2.25 (ITU-T X.667), which
     * needs no registration ({@code urn:uuid:036f90a4-087c-46cf-b3dc-80473c6d8949}).
     */
    public static final String FLEETKEY_EAT_JWT = "2.25.4566962601679812942663893590391753033";

    private CsrAttestation() {
    }
}
