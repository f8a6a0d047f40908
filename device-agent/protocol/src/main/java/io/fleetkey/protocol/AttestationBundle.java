package io.fleetkey.protocol;

import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1UTF8String;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x509.Certificate;

/**
 * The AttestationBundle of draft-ietf-lamps-csr-attestation, the value of the CSR attribute
 * {@link CsrAttestation#ID_AA_ATTESTATION}: one or more statements, and the certificates that
 * verify them (the signer's first, then its chain).
 *
 * <pre>
 * AttestationBundle ::= SEQUENCE {
 *    attestations SEQUENCE SIZE (1..MAX) OF AttestationStatement,
 *    certs SEQUENCE SIZE (1..MAX) OF LimitedCertChoices OPTIONAL }
 * AttestationStatement ::= SEQUENCE { type OBJECT IDENTIFIER, stmt ANY DEFINED BY type }
 * </pre>
 * Only X.509 certificates are read from {@code certs} (the {@code certificate} choice).
 */
public record AttestationBundle(List<Statement> statements, List<X509Certificate> certificates) {
    /** Bundles larger than this are refused before they are parsed. */
    public static final int MAX_ENCODED_BYTES = 16 * 1024;

    public AttestationBundle {
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("an AttestationBundle holds at least one statement");
        }
        statements = List.copyOf(statements);
        certificates = List.copyOf(certificates);
    }

    /** One AttestationStatement: its type OID and its stmt, DER-encoded. */
    public record Statement(String type, byte[] stmtDer) {
        /** A Fleetkey device statement: the compact JWT as UTF8String. */
        public static Statement eatJwt(String compactJwt) {
            try {
                return new Statement(CsrAttestation.FLEETKEY_EAT_JWT, new DERUTF8String(compactJwt).getEncoded());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The compact JWT, if this is a Fleetkey device statement. */
        public Optional<String> eatJwt() {
            if (!CsrAttestation.FLEETKEY_EAT_JWT.equals(type)) {
                return Optional.empty();
            }
            try {
                return Optional.of(ASN1UTF8String.getInstance(ASN1Primitive.fromByteArray(stmtDer)).getString());
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("the device statement is not a UTF8String", e);
            }
        }
    }

    /** The first Fleetkey device statement of the bundle. */
    public Optional<String> deviceStatement() {
        for (Statement s : statements) {
            Optional<String> jwt = s.eatJwt();
            if (jwt.isPresent()) {
                return jwt;
            }
        }
        return Optional.empty();
    }

    /** DER of the AttestationBundle. */
    public byte[] encoded() {
        try {
            ASN1EncodableVector attestations = new ASN1EncodableVector();
            for (Statement s : statements) {
                attestations.add(new DERSequence(new ASN1Encodable[]{
                        new ASN1ObjectIdentifier(s.type()), ASN1Primitive.fromByteArray(s.stmtDer())}));
            }
            ASN1EncodableVector bundle = new ASN1EncodableVector();
            bundle.add(new DERSequence(attestations));
            if (!certificates.isEmpty()) {
                ASN1EncodableVector certs = new ASN1EncodableVector();
                for (X509Certificate c : certificates) {
                    certs.add(Certificate.getInstance(c.getEncoded()));
                }
                bundle.add(new DERSequence(certs));
            }
            return new DERSequence(bundle).getEncoded(ASN1Encoding.DER);
        } catch (IOException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode an AttestationBundle", e);
        }
    }

    /** Parses the DER of an AttestationBundle; anything else is an IllegalArgumentException saying what is wrong. */
    public static AttestationBundle decode(byte[] der) {
        if (der.length > MAX_ENCODED_BYTES) {
            throw new IllegalArgumentException("the AttestationBundle has " + der.length + " bytes; at most "
                    + MAX_ENCODED_BYTES + " are read");
        }
        try {
            return decode(ASN1Primitive.fromByteArray(der));
        } catch (IOException e) {
            throw new IllegalArgumentException("the AttestationBundle is not DER: " + e.getMessage(), e);
        }
    }

    /** Parses an AttestationBundle already read as ASN.1 (e.g. a CSR attribute's value). */
    public static AttestationBundle decode(ASN1Encodable value) {
        try {
            int size = value.toASN1Primitive().getEncoded(ASN1Encoding.DER).length;
            if (size > MAX_ENCODED_BYTES) {
                throw new IllegalArgumentException("the AttestationBundle has " + size + " bytes; at most "
                        + MAX_ENCODED_BYTES + " are read");
            }
            ASN1Sequence bundle = ASN1Sequence.getInstance(value);
            if (bundle.size() < 1 || bundle.size() > 2) {
                throw new IllegalArgumentException("an AttestationBundle is a SEQUENCE of 1 or 2 elements, not "
                        + bundle.size());
            }
            List<Statement> statements = new ArrayList<>();
            for (ASN1Encodable e : ASN1Sequence.getInstance(bundle.getObjectAt(0))) {
                ASN1Sequence statement = ASN1Sequence.getInstance(e);
                if (statement.size() != 2) {
                    throw new IllegalArgumentException("an AttestationStatement is a SEQUENCE of type and stmt");
                }
                statements.add(new Statement(ASN1ObjectIdentifier.getInstance(statement.getObjectAt(0)).getId(),
                        statement.getObjectAt(1).toASN1Primitive().getEncoded(ASN1Encoding.DER)));
            }
            if (statements.isEmpty()) {
                throw new IllegalArgumentException("an AttestationBundle holds at least one statement");
            }
            List<X509Certificate> certificates = new ArrayList<>();
            if (bundle.size() == 2) {
                for (ASN1Encodable e : ASN1Sequence.getInstance(bundle.getObjectAt(1))) {
                    if (!(e.toASN1Primitive() instanceof ASN1Sequence)) {
                        throw new IllegalArgumentException("only X.509 certificates are accepted in an "
                                + "AttestationBundle's certs");
                    }
                    certificates.add(Certificates.fromDer(e.toASN1Primitive().getEncoded(ASN1Encoding.DER)));
                }
            }
            return new AttestationBundle(statements, certificates);
        } catch (IOException | IllegalStateException e) {
            throw new IllegalArgumentException("the AttestationBundle cannot be read: " + e.getMessage(), e);
        }
    }
}
