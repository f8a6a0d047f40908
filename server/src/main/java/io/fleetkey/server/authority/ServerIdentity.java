package io.fleetkey.server.authority;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's own TLS certificate, issued by the Fleetkey issuing CA for the configured
 * host names and kept in {@code tls/server.p12} (0600, under the CA passphrase). Re-issued
 * when missing, within 30 days of expiry, or when the host names change.
 *
 * @param key   the server's private key
 * @param chain server certificate, issuing CA, root
 */
public record ServerIdentity(PrivateKey key, List<X509Certificate> chain) {
    static final Duration VALIDITY = Duration.ofDays(365);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final Logger LOG = LoggerFactory.getLogger(ServerIdentity.class);
    private static final String ALIAS = "server";

    /**
     * @param record stores the newly issued certificate in the registry before it is used
     */
    public static ServerIdentity loadOrIssue(Path dataDir, char[] passphrase, List<String> hostnames,
                                             CertificateAuthority authority, Instant now,
                                             Consumer<X509Certificate> record) {
        return loadOrIssue(dataDir.resolve("tls").resolve("server.p12"),
                "O=Fleetkey,CN=" + hostnames.stream().filter(h -> !isIpLiteral(h)).findFirst().orElse("fleetkey"),
                Set.of("serverAuth"), hostnames, passphrase, authority, now, record);
    }

    /**
     * The certificate the server's MQTT client presents to an external broker that requires
     * client certificates ({@code tls/mqtt-client.p12}). Its CN {@value #MQTT_CLIENT_CN} cannot be
     * a device id (':' is not allowed in those), so a broker that takes the CN as username (Mosquitto's
     * {@code use_identity_as_username}) can tell the server from every device.
     */
    public static ServerIdentity loadOrIssueMqttClient(Path dataDir, char[] passphrase, CertificateAuthority authority,
                                                       Instant now, Consumer<X509Certificate> record) {
        return loadOrIssue(dataDir.resolve("tls").resolve("mqtt-client.p12"), "O=Fleetkey,CN=" + MQTT_CLIENT_CN,
                Set.of("clientAuth"), List.of(), passphrase, authority, now, record);
    }

    /** The MQTT client certificate's CN, and so its username on brokers that use the CN. */
    public static final String MQTT_CLIENT_CN = "fleetkey:server";

    private static ServerIdentity loadOrIssue(Path file, String subject, Set<String> extendedKeyUsages,
                                              List<String> hostnames, char[] passphrase,
                                              CertificateAuthority authority, Instant now,
                                              Consumer<X509Certificate> record) {
        try {
            if (Files.exists(file)) {
                ServerIdentity existing = load(file, passphrase);
                X509Certificate cert = existing.chain().get(0);
                boolean fresh = cert.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE));
                boolean sameIssuer = cert.getIssuerX500Principal().equals(
                        authority.chain().get(0).getSubjectX500Principal());
                boolean sameSubject = cert.getSubjectX500Principal().equals(
                        new javax.security.auth.x500.X500Principal(new X500Name(subject).getEncoded()));
                if (fresh && sameIssuer && sameSubject && names(cert).equals(normalized(hostnames))) {
                    return existing;
                }
            }
            KeyPair keys = CaKeystore.ecKeyPair("secp256r1");
            List<String> dns = new ArrayList<>();
            List<String> ips = new ArrayList<>();
            for (String h : hostnames) {
                (isIpLiteral(h) ? ips : dns).add(h);
            }
            BigInteger serial = CertificateAuthority.newSerialNumber();
            X509Certificate cert = authority.issue(new CertificateAuthority.LeafRequest(
                    new X500Name(subject), SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()), VALIDITY,
                    extendedKeyUsages, dns, ips), serial, now);
            record.accept(cert);
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(cert);
            chain.addAll(authority.chain());
            KeyEntryFiles.write(file, ALIAS, keys.getPrivate(), chain, passphrase);
            LOG.info("Issued the server's certificate {} ({}, {}) for {}", serial.toString(16), subject,
                    extendedKeyUsages, hostnames.isEmpty() ? "no host names" : hostnames);
            return new ServerIdentity(keys.getPrivate(), List.copyOf(chain));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up the server TLS certificate in " + file + ": " + e.getMessage(), e);
        }
    }

    private static ServerIdentity load(Path file, char[] passphrase) throws IOException, GeneralSecurityException {
        KeyEntryFiles.KeyEntry entry = KeyEntryFiles.read(file, ALIAS, passphrase);
        return new ServerIdentity(entry.key(), entry.chain());
    }

    private static Set<String> names(X509Certificate cert) throws GeneralSecurityException {
        Set<String> names = new HashSet<>();
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                names.add(san.get(1).toString());
            }
        }
        return names;
    }

    private static boolean isIpLiteral(String host) {
        if (host.contains(":")) {
            return true;
        }
        return host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /** Host names as a certificate reports them back: IP literals in the JDK's canonical text form. */
    private static Set<String> normalized(List<String> hostnames) throws IOException {
        Set<String> names = new HashSet<>();
        for (String h : hostnames) {
            names.add(isIpLiteral(h) ? InetAddress.getByName(h).getHostAddress() : h);
        }
        return names;
    }
}
