package io.fleetkey.protocol;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSAbsentContent;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.CollectionStore;
import org.bouncycastle.util.Store;

/**
 * DER, PEM and certs-only PKCS#7 codecs for certificates, shared by agent and server.
 * Decoders throw {@link IllegalArgumentException} with a readable reason on bad input; the
 * reason never carries a library's internal message, so it can go to a client as it is.
 */
public final class Certificates {
    private Certificates() {
    }

    /** Parses one DER certificate. */
    public static X509Certificate fromDer(byte[] der) {
        try {
            return (X509Certificate) factory().generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | ClassCastException e) {
            throw new IllegalArgumentException("not a DER X.509 certificate", e);
        }
    }

    /** DER encoding of a certificate. */
    public static byte[] toDer(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("certificate cannot be encoded", e);
        }
    }

    /**
     * RFC 7030 §4.1.3: a certs-only CMS SignedData (degenerate PKCS#7, no signers) holding
     * the given certificates, DER encoded.
     */
    public static byte[] toPkcs7CertsOnly(List<X509Certificate> certificates) {
        try {
            List<X509CertificateHolder> holders = new ArrayList<>(certificates.size());
            for (X509Certificate c : certificates) {
                holders.add(new X509CertificateHolder(c.getEncoded()));
            }
            CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
            generator.addCertificates(new CollectionStore<>(holders));
            return generator.generate(new CMSAbsentContent()).getEncoded("DER");
        } catch (IOException | CMSException | java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode certs-only PKCS#7", e);
        }
    }

    /** Reads the certificates of a certs-only PKCS#7 in the order they are stored. */
    public static List<X509Certificate> fromPkcs7CertsOnly(byte[] der) {
        try {
            CMSSignedData signedData = new CMSSignedData(der);
            Store<X509CertificateHolder> store = signedData.getCertificates();
            Collection<X509CertificateHolder> holders = store.getMatches(null);
            List<X509Certificate> result = new ArrayList<>(holders.size());
            for (X509CertificateHolder holder : holders) {
                result.add(fromDer(holder.getEncoded()));
            }
            return result;
        } catch (CMSException | IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a certs-only PKCS#7 (CMS SignedData)", e);
        }
    }

    /** PEM text of the certificates, one block each. */
    public static String toPem(List<X509Certificate> certificates) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (X509Certificate c : certificates) {
                writer.writeObject(c);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Reads every CERTIFICATE block of PEM text; other blocks are an error. */
    public static List<X509Certificate> fromPem(String pem) {
        List<X509Certificate> result = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (!(o instanceof X509CertificateHolder holder)) {
                    throw new IllegalArgumentException("expected only CERTIFICATE blocks in PEM, found another "
                            + "kind of block (a key or a request?)");
                }
                result.add(fromDer(holder.getEncoded()));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("a CERTIFICATE block is not a valid X.509 certificate", e);
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException("no CERTIFICATE block found in PEM text");
        }
        return result;
    }

    private static CertificateFactory factory() throws CertificateException {
        return CertificateFactory.getInstance("X.509");
    }
}
