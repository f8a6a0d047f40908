package io.fleetkey.simulator.factory;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.fleetkey.agent.AgentTls;
import io.fleetkey.protocol.Certificates;
import io.fleetkey.simulator.FleetApiClient;
import io.fleetkey.simulator.FleetApiClient.FleetApiException;
import io.fleetkey.simulator.FleetApiClient.GroupTrust;
import io.fleetkey.simulator.FleetApiClient.MakerCaSummary;
import io.fleetkey.simulator.FleetApiClient.MakerCrlSummary;

/**
 * Makes a Fleetkey enrollment group accept this maker's devices through the fleet API: the
 * group trusts the maker CA (created with it, or added by PATCH), carries the maker's CRL
 * when there is one, and has every device registered. Safe to run again: what is in place
 * already is left as it is.
 *
 * <p>The fleet API shows a group's maker CAs only as summaries (subject, SHA-256, notAfter),
 * and a PATCH replaces the whole list; so when the group also trusts other makers, their
 * certificates must be given ({@code --keep-maker-cas}), or the PATCH would drop them. The
 * same holds for {@code makerCrls} (shown by issuer and thisUpdate), which replaces all the
 * group's maker CRLs: other makers' CRLs must be given ({@code --keep-maker-crls}).
 */
final class MakerRegistration {
    /** How many device ids are named in a message before "and N more". */
    private static final int NAMED_IN_MESSAGES = 10;

    /**
     * @param deviceIds     the devices to register; null for every {@code devices/ID.p12} of the directory
     * @param keepMakerCas  other makers' CA certificates the group keeps trusting; null when none were given
     * @param keepMakerCrls other makers' CRLs (PEM texts) the group keeps; null when none were given
     */
    record Settings(FactoryDirectory directory, URI server, List<X509Certificate> anchors, String adminToken,
                    String group, String profile, List<String> deviceIds, boolean registerDevices,
                    List<X509Certificate> keepMakerCas, List<String> keepMakerCrls) {
    }

    /** What happened; {@code foreignDevices} are registered in another group and were left there. */
    record Outcome(boolean groupCreated, boolean makerCaAdded, boolean crlUploaded, int registered,
                   int alreadyRegistered, List<String> foreignDevices) {
    }

    private final Settings settings;
    private final FleetApiClient fleet;
    private final PrintStream out;

    MakerRegistration(Settings settings, PrintStream out) {
        this(settings, new FleetApiClient(settings.server(), AgentTls.trusting(settings.anchors()), settings.adminToken()),
                out);
    }

    MakerRegistration(Settings settings, FleetApiClient fleet, PrintStream out) {
        this.settings = settings;
        this.fleet = fleet;
        this.out = out;
    }

    Outcome run() throws FactoryException, FleetApiException, IOException, InterruptedException {
        FactoryDirectory dir = settings.directory();
        X509Certificate makerCa = readMakerCa(dir);
        String group = settings.group();

        String makerPem = Certificates.toPem(List.of(makerCa));
        boolean created = fleet.createGroup(group, settings.profile(), List.of(makerPem));
        List<MakerCaSummary> others = new ArrayList<>();
        boolean added = created;
        GroupTrust trust;
        if (created) {
            out.printf("Created group '%s' (profile %s) trusting maker CA '%s'%n", group, settings.profile(),
                    makerCa.getSubjectX500Principal().getName());
            trust = new GroupTrust(List.of(), List.of());
        } else {
            trust = fleet.groupTrust(group);
            added = addMakerCa(makerCa, makerPem, trust.makerCas(), others);
        }

        boolean crlUploaded = uploadCrl(dir, makerCa, trust, others);

        int registered = 0;
        int already = 0;
        List<String> foreign = new ArrayList<>();
        if (settings.registerDevices()) {
            List<String> ids = settings.deviceIds() != null ? settings.deviceIds() : dir.deviceIdsOnDisk();
            if (ids.isEmpty()) {
                out.println("No devices to register: " + dir.devicesDir() + " holds no IDevIDs; run 'factory issue' first");
            } else {
                Set<String> inGroup = fleet.deviceIds(group, commonPrefix(ids));
                List<String> missing = ids.stream().filter(id -> !inGroup.contains(id)).toList();
                already = ids.size() - missing.size();
                for (int from = 0; from < missing.size(); from += FleetApiClient.MAX_BULK) {
                    int to = Math.min(missing.size(), from + FleetApiClient.MAX_BULK);
                    registered += register(missing.subList(from, to), foreign);
                    out.printf(Locale.ROOT, "Registered %d/%d devices%n", to, missing.size());
                }
                out.printf(Locale.ROOT, "Devices of group '%s': %d registered now, %d were registered already%n",
                        group, registered, already);
                if (registered > 0) {
                    out.println("They enroll with their factory certificate (devices/ID.p12); the one-time tokens the "
                            + "registration made are not needed and were not kept.");
                }
                if (!foreign.isEmpty()) {
                    out.printf(Locale.ROOT, "%d devices are registered in another group and were left there: %s%n"
                            + "Their factory certificates are checked against that group's maker CAs; "
                            + "GET /api/v1/devices/ID shows which group.%n", foreign.size(), named(foreign));
                }
            }
        }
        return new Outcome(created, added, crlUploaded, registered, already, foreign);
    }

    /**
     * Adds the maker CA to an existing group unless it is there, keeping the other makers' CAs.
     *
     * @param others receives the summaries of the group's other maker CAs
     * @return true when the group was changed
     */
    private boolean addMakerCa(X509Certificate makerCa, String makerPem, List<MakerCaSummary> trusted,
                               List<MakerCaSummary> others)
            throws FactoryException, FleetApiException, IOException, InterruptedException {
        String group = settings.group();
        String ours = sha256(makerCa);
        boolean present = false;
        for (MakerCaSummary summary : trusted) {
            if (summary.sha256().equalsIgnoreCase(ours)) {
                present = true;
            } else {
                others.add(summary);
            }
        }
        List<X509Certificate> keep = settings.keepMakerCas() == null ? List.of() : settings.keepMakerCas();
        Set<String> kept = new HashSet<>();
        for (X509Certificate c : keep) {
            kept.add(sha256(c));
        }
        List<MakerCaSummary> wouldBeDropped = others.stream()
                .filter(o -> !kept.contains(o.sha256().toLowerCase(Locale.ROOT))).toList();
        boolean keepAddsNew = kept.stream().anyMatch(k -> !k.equals(ours)
                && others.stream().noneMatch(o -> o.sha256().equalsIgnoreCase(k)));
        if (present && !keepAddsNew) {
            out.printf("Group '%s' trusts maker CA '%s' already%n", group, makerCa.getSubjectX500Principal().getName());
            return false;
        }
        if (!wouldBeDropped.isEmpty()) {
            StringBuilder list = new StringBuilder();
            for (MakerCaSummary o : wouldBeDropped) {
                list.append("\n  ").append(o.subject()).append("  SHA-256 ").append(o.sha256());
            }
            throw new FactoryException("group '" + group + "' also trusts other maker CAs, which the fleet API shows "
                    + "only as summaries:" + list + "\nA PATCH replaces the group's whole list, so give their "
                    + "certificates (PEM) with --keep-maker-cas FILE, or register this maker on another group.");
        }
        List<String> pems = new ArrayList<>();
        for (X509Certificate c : keep) {
            if (!sha256(c).equals(ours)) {
                pems.add(Certificates.toPem(List.of(c)));
            }
        }
        pems.add(makerPem);
        fleet.updateGroup(group, Map.of("makerCas", pems));
        out.printf(Locale.ROOT, "Group '%s' now trusts %d maker CA(s), among them '%s'%n", group, pems.size(),
                makerCa.getSubjectX500Principal().getName());
        return true;
    }

    /**
     * Gives the group this maker's CRL unless it has it already. {@code makerCrls} replaces all
     * the group's maker CRLs, so other makers' CRLs on the group must be given to be kept.
     */
    private boolean uploadCrl(FactoryDirectory dir, X509Certificate makerCa, GroupTrust trust,
                              List<MakerCaSummary> otherCas)
            throws FactoryException, FleetApiException, IOException, InterruptedException {
        if (!Files.exists(dir.crlFile())) {
            return false;
        }
        X509CRL crl = dir.currentCrl().orElseThrow();
        String issuer = makerCa.getSubjectX500Principal().getName();
        boolean othersMayHaveCrls;
        if (trust.makerCrls() != null) {
            List<MakerCrlSummary> otherCrls = trust.makerCrls().stream().filter(c -> !c.issuer().equals(issuer)).toList();
            boolean inPlace = trust.makerCrls().stream().anyMatch(c -> c.issuer().equals(issuer)
                    && crl.getThisUpdate().toInstant().equals(instant(c.thisUpdate())));
            if (inPlace && settings.keepMakerCrls() == null) {
                out.printf(Locale.ROOT, "Group '%s' has this maker CRL already (number %s)%n", settings.group(),
                        FactoryDirectory.crlNumber(crl));
                return false;
            }
            othersMayHaveCrls = !otherCrls.isEmpty();
        } else {
            // A server that shows no maker CRLs cannot say whose it holds: assume every other maker has one.
            othersMayHaveCrls = !otherCas.isEmpty();
        }
        if (othersMayHaveCrls && settings.keepMakerCrls() == null) {
            throw new FactoryException("group '" + settings.group() + "' holds CRLs of other makers, and the makerCrls "
                    + "field replaces all the group's maker CRLs; give the other makers' current CRLs with "
                    + "--keep-maker-crls FILE (PEM)");
        }
        List<String> crls = new ArrayList<>(settings.keepMakerCrls() == null ? List.of() : settings.keepMakerCrls());
        crls.add(Files.readString(dir.crlFile(), StandardCharsets.US_ASCII));
        Map<String, Object> patch = new LinkedHashMap<>();
        patch.put("makerCrls", crls);
        try {
            fleet.updateGroup(settings.group(), patch);
        } catch (FleetApiException e) {
            if (e.status() == 400) {
                throw new FactoryException(e.getMessage() + "\nThe server refused the maker CRL; a server that does not "
                        + "know the group field makerCrls cannot take one. The maker CA is registered.", e);
            }
            throw e;
        }
        out.printf(Locale.ROOT, "Uploaded the maker CRL (number %s, %d revoked, next update %s) to group '%s'%n",
                FactoryDirectory.crlNumber(crl), crl.getRevokedCertificates() == null ? 0
                        : crl.getRevokedCertificates().size(), crl.getNextUpdate().toInstant(), settings.group());
        return true;
    }

    /**
     * Registers the devices, all or none per request; when some are registered already (409),
     * the batch is halved until the others go through and those are found.
     *
     * @param conflicts receives the devices the fleet API says are registered already
     * @return how many were registered
     */
    private int register(List<String> ids, List<String> conflicts)
            throws FleetApiException, IOException, InterruptedException {
        try {
            fleet.registerBulk(settings.group(), ids);
            return ids.size();
        } catch (FleetApiException e) {
            if (e.status() != 409) {
                throw e;
            }
        }
        if (ids.size() == 1) {
            conflicts.add(ids.get(0));
            return 0;
        }
        int half = ids.size() / 2;
        return register(ids.subList(0, half), conflicts) + register(ids.subList(half, ids.size()), conflicts);
    }

    private static X509Certificate readMakerCa(FactoryDirectory dir) throws FactoryException, IOException {
        if (!Files.exists(dir.caCertificateFile())) {
            throw new FactoryException(dir.dir() + " has no maker CA (" + FactoryDirectory.CA_CERTIFICATE
                    + "); run 'fleetkey-simulator factory init --dir " + dir.dir() + " --maker NAME' first");
        }
        try {
            return Certificates.fromPem(Files.readString(dir.caCertificateFile(), StandardCharsets.US_ASCII)).get(0);
        } catch (IllegalArgumentException e) {
            throw new FactoryException(dir.caCertificateFile() + ": " + e.getMessage(), e);
        }
    }

    /** An instant as the fleet API writes it: ISO-8601, or seconds since the epoch; null when neither. */
    static Instant instant(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                BigDecimal seconds = new BigDecimal(text);
                return Instant.ofEpochSecond(seconds.longValue(),
                        seconds.remainder(BigDecimal.ONE).movePointRight(9).intValue());
            } catch (NumberFormatException | ArithmeticException notNumeric) {
                return null;
            }
        }
    }

    static String sha256(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Certificates.toDer(certificate)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }

    /** The longest prefix all ids share: it narrows the listing of the group to these devices. */
    static String commonPrefix(List<String> ids) {
        String prefix = ids.get(0);
        for (String id : ids) {
            int n = 0;
            while (n < prefix.length() && n < id.length() && prefix.charAt(n) == id.charAt(n)) {
                n++;
            }
            prefix = prefix.substring(0, n);
        }
        return prefix;
    }

    static String named(List<String> ids) {
        String shown = String.join(", ", ids.subList(0, Math.min(ids.size(), NAMED_IN_MESSAGES)));
        return ids.size() > NAMED_IN_MESSAGES ? shown + " and " + (ids.size() - NAMED_IN_MESSAGES) + " more" : shown;
    }
}
