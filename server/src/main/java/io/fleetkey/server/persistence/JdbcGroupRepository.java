package io.fleetkey.server.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.fleetkey.protocol.Certificates;
import io.fleetkey.server.registry.EnrollmentGroup;
import io.fleetkey.server.registry.GroupRepository;
import io.fleetkey.server.util.Digests;
import jakarta.inject.Singleton;

@Singleton
public final class JdbcGroupRepository implements GroupRepository {
    /** Parsed maker CAs by SHA-256 of their DER: a certificate never changes, so parsing it once is enough. */
    private static final int PARSED_LIMIT = 10_000;
    private final Map<String, X509Certificate> parsed = new ConcurrentHashMap<>();
    private final JdbcTransactions tx;

    public JdbcGroupRepository(JdbcTransactions tx) {
        this.tx = tx;
    }

    @Override
    public Optional<EnrollmentGroup> find(String name) {
        return tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name, profile, require_approval, allowed_dns_names, created_at FROM enrollment_groups WHERE name = ?")) {
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
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_groups "
                    + "(name, profile, require_approval, allowed_dns_names, created_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, group.name());
                ps.setString(2, group.profile());
                ps.setBoolean(3, group.requireApproval());
                ps.setString(4, String.join(",", group.allowedDnsNames()));
                Sql.setInstant(ps, 5, group.createdAt());
                ps.executeUpdate();
            }
            writeMakerCas(c, group);
            return null;
        }));
    }

    @Override
    public void update(EnrollmentGroup group) {
        tx.inTransaction(() -> tx.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_groups SET profile = ?, "
                    + "require_approval = ?, allowed_dns_names = ? WHERE name = ?")) {
                ps.setString(1, group.profile());
                ps.setBoolean(2, group.requireApproval());
                ps.setString(3, String.join(",", group.allowedDnsNames()));
                ps.setString(4, group.name());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM group_maker_cas WHERE group_name = ?")) {
                ps.setString(1, group.name());
                ps.executeUpdate();
            }
            writeMakerCas(c, group);
            return null;
        }));
    }

    @Override
    public List<EnrollmentGroup> list() {
        return tx.withConnection(c -> {
            List<EnrollmentGroup> groups = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name, profile, require_approval, allowed_dns_names, created_at FROM enrollment_groups ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    groups.add(map(c, rs));
                }
            }
            return groups;
        });
    }

    private static void writeMakerCas(Connection c, EnrollmentGroup group) throws SQLException {
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

    private EnrollmentGroup map(Connection c, ResultSet rs) throws SQLException {
        String name = rs.getString("name");
        List<X509Certificate> cas = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT sha256, der FROM group_maker_cas WHERE group_name = ? ORDER BY sha256")) {
            ps.setString(1, name);
            try (ResultSet cr = ps.executeQuery()) {
                while (cr.next()) {
                    cas.add(certificate(cr.getString(1), cr.getBytes(2)));
                }
            }
        }
        String dns = rs.getString("allowed_dns_names");
        List<String> dnsNames = dns.isEmpty() ? List.of() : Arrays.asList(dns.split(","));
        return new EnrollmentGroup(name, rs.getString("profile"), cas, rs.getBoolean("require_approval"),
                dnsNames, Sql.getInstant(rs, "created_at"));
    }
}
