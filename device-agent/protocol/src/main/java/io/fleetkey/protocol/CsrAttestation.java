package io.fleetkey.protocol;

/** Identifiers of evidence carried in a CSR (draft-ietf-lamps-csr-attestation). */
public final class CsrAttestation {
    /** id-aa-attestation: the CSR attribute that carries evidence. */
    public static final String ID_AA_ATTESTATION = "1.2.840.113549.1.9.16.2.59";

    private CsrAttestation() {
    }
}
