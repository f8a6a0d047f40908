package io.fleetkey.server.persistence;

import java.security.cert.CRLException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.io.ByteArrayInputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.EnrollmentGroup;
import io.fleetkey.server.registry.GroupRepository;
import io.fleetkey.server.util.Digests;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcGroupRepository implements GroupRepository {
    private static final String COLUMNS = "name, profile, require_approval, allowed_dns_names, created_at, "
            + "attestation_mode, attestation_on_warning, attestation_require_nonce, restricted_profile, "
            + "minimum_sw_version, debug_allowed";
    /** Parsed maker CAs by SHA-256 of their DER: a certificate never changes, so parsing it once is enough. */
    private static final int PARSED_LIMIT = 10_000;
    private final Map<String, X509Certificate> parsed = new ConcurrentHashMap<>();
    private final Map<String, X509CRL> parsedCrls = new ConcurrentHashMap<>();
    private final JdbcTransactions tx;

    public JdbcGroupRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public Optional<EnrollmentGroup> find(String name) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM enrollment_groups WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(c, rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public void insert(EnrollmentGroup group) {
        tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_groups (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, group.name());
                ps.setString(2, group.profile());
                ps.setBoolean(3, group.requireApproval());
                ps.setString(4, String.join(",", group.allowedDnsNames()));
                Sql.setInstant(ps, 5, group.createdAt());
                bindPolicy(ps, 6, group.attestation());
                ps.executeUpdate();
            }
            writeChildren(c, group);
            for (AttestationPolicy.AllowedDigest d : group.attestation().allowedDigests()) {
                insertDigest(c, group.name(), d);
            }
            return null;
        }));
    }

    @Override
    public void update(EnrollmentGroup group) {
        tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_groups SET profile = ?, "
                    + "require_approval = ?, allowed_dns_names = ?, attestation_mode = ?, attestation_on_warning = ?, "
                    + "attestation_require_nonce = ?, restricted_profile = ?, minimum_sw_version = ?, debug_allowed = ? "
                    + "WHERE name = ?")) {
                ps.setString(1, group.profile());
                ps.setBoolean(2, group.requireApproval());
                ps.setString(3, String.join(",", group.allowedDnsNames()));
                bindPolicy(ps, 4, group.attestation());
                ps.setString(10, group.name());
                ps.executeUpdate();
            }
            for (String table : List.of("group_maker_cas", "group_maker_crls", "group_allowed_models")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE group_name = ?")) {
                    ps.setString(1, group.name());
                    ps.executeUpdate();
                }
            }
            writeChildren(c, group);
            return null;
        }));
    }

    @Override
    public boolean addDigest(String group, AttestationPolicy.AllowedDigest digest) {
        return tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT withdrawn_at FROM group_allowed_digests "
                    + "WHERE group_name = ? AND component = ? AND sha256 = ?")) {
                ps.setString(1, group);
                ps.setString(2, digest.component());
                ps.setString(3, digest.sha256());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        if (Sql.getInstant(rs, "withdrawn_at") == null) {
                            return false;
                        }
                        // Allowed again: a new addition, with its own time and note.
                        try (PreparedStatement up = c.prepareStatement("UPDATE group_allowed_digests SET withdrawn_at = "
                                + "NULL, added_at = ?, note = ? WHERE group_name = ? AND component = ? AND sha256 = ?")) {
                            Sql.setInstant(up, 1, digest.addedAt());
                            up.setString(2, digest.note());
                            up.setString(3, group);
                            up.setString(4, digest.component());
                            up.setString(5, digest.sha256());
                            up.executeUpdate();
                        }
                        return true;
                    }
                }
            }
            insertDigest(c, group, digest);
            return true;
        }));
    }

    @Override
    public boolean withdrawDigest(String group, String component, String sha256, java.time.Instant at) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE group_allowed_digests SET withdrawn_at = ? "
                    + "WHERE group_name = ? AND component = ? AND sha256 = ? AND withdrawn_at IS NULL")) {
                Sql.setInstant(ps, 1, at);
                ps.setString(2, group);
                ps.setString(3, component);
                ps.setString(4, sha256);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public List<EnrollmentGroup> list() {
        return tx.withConnection(c -> {
            List<EnrollmentGroup> groups = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM enrollment_groups ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    groups.add(map(c, rs));
                }
            }
            return groups;
        });
    }

    private static void bindPolicy(PreparedStatement ps, int first, AttestationPolicy p) throws SQLException {
        ps.setString(first, p.mode().name());
        ps.setString(first + 1, p.onWarning().name());
        ps.setBoolean(first + 2, p.requireNonce());
        ps.setString(first + 3, p.restrictedProfile());
        ps.setString(first + 4, p.minimumVersion());
        ps.setBoolean(first + 5, p.debugAllowed());
    }

    private static void insertDigest(Connection c, String group, AttestationPolicy.AllowedDigest d) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO group_allowed_digests "
                + "(group_name, component, sha256, added_at, note) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, group);
            ps.setString(2, d.component());
            ps.setString(3, d.sha256());
            Sql.setInstant(ps, 4, d.addedAt());
            ps.setString(5, d.note());
            ps.executeUpdate();
        }
    }

    private static void writeChildren(Connection c, EnrollmentGroup group) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO group_maker_cas (group_name, sha256, der) VALUES (?, ?, ?)")) {
            for (X509Certificate ca : group.makerCas()) {
                byte[] der = Certificates.toDer(ca);
                ps.setString(1, group.name());
                ps.setString(2, Digests.sha256Hex(der));
                ps.setBytes(3, der);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO group_maker_crls (group_name, sha256, der) VALUES (?, ?, ?)")) {
            for (X509CRL crl : group.makerCrls()) {
                byte[] der;
                try {
                    der = crl.getEncoded();
                } catch (CRLException e) {
                    throw new IllegalArgumentException("cannot encode a maker CRL: " + e.getMessage(), e);
                }
                ps.setString(1, group.name());
                ps.setString(2, Digests.sha256Hex(der));
                ps.setBytes(3, der);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO group_allowed_models (group_name, model) VALUES (?, ?)")) {
            for (String model : group.attestation().allowedModels()) {
                ps.setString(1, group.name());
                ps.setString(2, model);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @Override
    public List<X509Certificate> allMakerCas() {
        return tx.withConnection(c -> {
            Map<String, X509Certificate> cas = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT sha256, der FROM group_maker_cas ORDER BY sha256");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String sha256 = rs.getString(1);
                    if (!cas.containsKey(sha256)) {
                        cas.put(sha256, certificate(sha256, rs.getBytes(2)));
                    }
                }
            }
            return List.copyOf(cas.values());
        });
    }

    @Override
    public List<X509CRL> allMakerCrls() {
        return tx.withConnection(c -> {
            Map<String, X509CRL> crls = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT sha256, der FROM group_maker_crls ORDER BY sha256");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    crls.computeIfAbsent(rs.getString(1), sha -> {
                        try {
                            return crl(sha, rs.getBytes(2));
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
            }
            return List.copyOf(crls.values());
        });
    }

    private X509Certificate certificate(String sha256, byte[] der) {
        X509Certificate known = parsed.get(sha256);
        if (known != null) {
            return known;
        }
        X509Certificate certificate = Certificates.fromDer(der);
        if (parsed.size() < PARSED_LIMIT) {
            parsed.put(sha256, certificate);
        }
        return certificate;
    }

    private X509CRL crl(String sha256, byte[] der) {
        X509CRL known = parsedCrls.get(sha256);
        if (known != null) {
            return known;
        }
        try {
            X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
            if (parsedCrls.size() < PARSED_LIMIT) {
                parsedCrls.put(sha256, crl);
            }
            return crl;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("a stored maker CRL does not parse: " + e.getMessage(), e);
        }
    }

    private EnrollmentGroup map(Connection c, ResultSet rs) throws SQLException {
        String name = rs.getString("name");
        List<X509Certificate> cas = new ArrayList<>();
        for (Map.Entry<String, byte[]> row : rows(c, "SELECT sha256, der FROM group_maker_cas WHERE group_name = ? "
                + "ORDER BY sha256", name)) {
            cas.add(certificate(row.getKey(), row.getValue()));
        }
        List<X509CRL> crls = new ArrayList<>();
        for (Map.Entry<String, byte[]> row : rows(c, "SELECT sha256, der FROM group_maker_crls WHERE group_name = ? "
                + "ORDER BY sha256", name)) {
            crls.add(crl(row.getKey(), row.getValue()));
        }
        String dns = rs.getString("allowed_dns_names");
        List<String> dnsNames = dns.isEmpty() ? List.of() : Arrays.asList(dns.split(","));
        AttestationPolicy.Mode mode = AttestationPolicy.Mode.valueOf(rs.getString("attestation_mode"));
        List<String> models = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT model FROM group_allowed_models WHERE group_name = ? ORDER BY model")) {
            ps.setString(1, name);
            try (ResultSet mr = ps.executeQuery()) {
                while (mr.next()) {
                    models.add(mr.getString(1));
                }
            }
        }
        List<AttestationPolicy.AllowedDigest> digests = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT component, sha256, added_at, note, withdrawn_at "
                + "FROM group_allowed_digests WHERE group_name = ? ORDER BY component, added_at, sha256")) {
            ps.setString(1, name);
            try (ResultSet dr = ps.executeQuery()) {
                while (dr.next()) {
                    digests.add(new AttestationPolicy.AllowedDigest(dr.getString(1), dr.getString(2),
                            Sql.getInstant(dr, "added_at"), dr.getString(4), Sql.getInstant(dr, "withdrawn_at")));
                }
            }
        }
        AttestationPolicy policy = new AttestationPolicy(mode,
                AttestationPolicy.OnWarning.valueOf(rs.getString("attestation_on_warning")),
                rs.getBoolean("attestation_require_nonce"), rs.getString("restricted_profile"), models,
                rs.getString("minimum_sw_version"), rs.getBoolean("debug_allowed"), digests);
        return new EnrollmentGroup(name, rs.getString("profile"), cas, rs.getBoolean("require_approval"),
                dnsNames, Sql.getInstant(rs, "created_at"), crls, policy);
    }

    private static List<Map.Entry<String, byte[]>> rows(Connection c, String sql, String group) throws SQLException {
        List<Map.Entry<String, byte[]>> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, group);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(Map.entry(rs.getString(1), rs.getBytes(2)));
                }
            }
        }
        return rows;
    }
}
