package io.fleetkey.server.authority;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CRLException;
import java.security.cert.X509CRL;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import io.fleetkey.server.registry.CertificateRepository;
import io.fleetkey.server.registry.CertificateRepository.RevokedCertificate;
import io.fleetkey.server.registry.CrlNumbers;
import io.fleetkey.server.registry.Transactions;
import io.fleetkey.server.util.AtomicFiles;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the issuing CA's CRL (RFC 5280 §5). A publication draws the next CRL number and reads
 * the revoked certificates in one registry transaction, has the {@link CertificateAuthority} sign,
 * and replaces {@code issuing-ca.crl} (DER) and {@code issuing-ca.crl.pem} (PEM, what Mosquitto's
 * {@code crlfile} reads) atomically. A revoked certificate stays listed until one nextUpdate period
 * after it expires, so it is on at least one CRL issued after its expiry (RFC 5280 §3.3).
 * Thread-safe: publications run one at a time; {@link #current()} does not wait for one.
 */
public final class CrlPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(CrlPublisher.class);
    /** Files are world-readable: a CRL is public, and a broker running as another user must read it. */
    private static final String FILE_MODE = "rw-r--r--";

    private final CertificateAuthority authority;
    private final CertificateRepository certificates;
    private final CrlNumbers numbers;
    private final Transactions transactions;
    private final Clock clock;
    private final Path folder;
    private final Duration nextUpdate;
    private volatile PublishedCrl current;
    /** Serials (lower-case hex) on the current CRL. */
    private volatile Set<String> listed = Set.of();

    /**
     * A published CRL.
     *
     * @param der its DER encoding: what the DER file holds and {@code /crl} serves
     */
    public record PublishedCrl(long number, Instant thisUpdate, Instant nextUpdate, int entries, X509CRL crl,
                               byte[] der) {
    }

    /**
     * @param folder     where the two files go (created if missing)
     * @param nextUpdate how long each CRL is valid
     */
    public CrlPublisher(CertificateAuthority authority, CertificateRepository certificates, CrlNumbers numbers,
                        Transactions transactions, Clock clock, Path folder, Duration nextUpdate) {
        this.authority = authority;
        this.certificates = certificates;
        this.numbers = numbers;
        this.transactions = transactions;
        this.clock = clock;
        this.folder = folder;
        this.nextUpdate = nextUpdate;
    }

    /** The CRL as DER. */
    public Path derFile() {
        return folder.resolve("issuing-ca.crl");
    }

    /** The CRL as PEM ({@code -----BEGIN X509 CRL-----}), e.g. for Mosquitto's {@code crlfile}. */
    public Path pemFile() {
        return folder.resolve("issuing-ca.crl.pem");
    }

    /**
     * Builds, signs and writes a new CRL now, with a new CRL number, and returns it once both files
     * are in place. Blocks on the registry.
     *
     * @throws UncheckedIOException when a file cannot be written; the previous files stay as they were
     */
    public synchronized PublishedCrl publishNow() {
        Instant listedAfter = clock.instant().minus(nextUpdate);
        Snapshot snapshot = transactions.inTransaction(
                () -> new Snapshot(numbers.next(), certificates.revokedExpiringAfter(listedAfter)));
        Instant now = clock.instant();
        X509CRL crl = authority.signCrl(snapshot.number(), now, now.plus(nextUpdate), snapshot.entries());
        byte[] der;
        try {
            der = crl.getEncoded();
        } catch (CRLException e) {
            throw new IllegalStateException("cannot encode CRL number " + snapshot.number(), e);
        }
        try {
            AtomicFiles.write(derFile(), der, FILE_MODE);
            AtomicFiles.write(pemFile(), pem(der), FILE_MODE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the CRL to " + folder.toAbsolutePath() + ": " + e.getMessage()
                    + "; the server needs write access to that folder", e);
        }
        PublishedCrl published = new PublishedCrl(snapshot.number(), crl.getThisUpdate().toInstant(),
                crl.getNextUpdate().toInstant(), snapshot.entries().size(), crl, der);
        current = published;
        listed = snapshot.entries().stream().map(RevokedCertificate::serialHex).collect(Collectors.toUnmodifiableSet());
        LOG.info("Published CRL number {} with {} revoked certificate(s), next update {}, in {}", published.number(),
                published.entries(), published.nextUpdate(), folder.toAbsolutePath());
        return published;
    }

    /**
     * Publishes a new CRL unless the current one lists all these serials already. A revocation of
     * many devices in one transaction then costs one CRL, not one per device: the first device's
     * publication lists them all. Waits for a publication in progress before it looks.
     *
     * @param serials lower-case hex serials that must be on the CRL
     */
    public synchronized PublishedCrl publishUnlessListed(Collection<String> serials) {
        PublishedCrl crl = current;
        if (crl != null && listed.containsAll(serials)) {
            return crl;
        }
        return publishNow();
    }

    /** The newest CRL this server published; publishes one first if there is none yet. */
    public PublishedCrl current() {
        PublishedCrl crl = current;
        return crl != null ? crl : publishNow();
    }

    private record Snapshot(long number, List<RevokedCertificate> entries) {
    }

    private static byte[] pem(byte[] der) throws IOException {
        StringWriter text = new StringWriter();
        try (PemWriter writer = new PemWriter(text)) {
            writer.writeObject(new PemObject("X509 CRL", der));
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
