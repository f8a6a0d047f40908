package io.fleetkey.server.enrollment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fleetkey.protocol.Evidence;
import io.fleetkey.server.registry.AttestationPolicy;
import io.fleetkey.server.registry.AttestationResult;

/**
 * Compares the claims of verified evidence with a group's reference values. A claim that is
 * known bad (a digest the group does not allow, debug enabled, a foreign model) makes the
 * result contraindicated; a claim that is missing or merely outdated (a version below the
 * minimum, a component the device did not measure) makes it a warning, for the group's policy
 * to decide. Components the group has no reference values for are not judged.
 */
final class Appraiser {
    private Appraiser() {
    }

    static Appraisal appraise(Evidence evidence, AttestationPolicy policy, String group) {
        List<String> contraindications = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (!policy.allowedModels().isEmpty()) {
            if (evidence.hwModel() == null) {
                warnings.add("the evidence names no hardware model (hwmodel); group '" + group + "' has models "
                        + policy.allowedModels());
            } else if (!policy.allowedModels().contains(evidence.hwModel())) {
                contraindications.add("hardware model '" + evidence.hwModel() + "' is not a model of group '" + group
                        + "' " + policy.allowedModels());
            }
        }
        if (!policy.debugAllowed()) {
            if (evidence.debug() == null) {
                warnings.add("the evidence does not say whether debug is disabled (dbgstat)");
            } else if (evidence.debug() == Evidence.DebugStatus.ENABLED) {
                contraindications.add("debug is enabled (dbgstat); group '" + group + "' requires it disabled");
            }
        }
        if (policy.minimumVersion() != null) {
            if (evidence.swVersion() == null) {
                warnings.add("the evidence has no software version (swversion); group '" + group + "' requires at least "
                        + policy.minimumVersion());
            } else {
                int order = compareVersions(evidence.swVersion(), policy.minimumVersion());
                if (order == Integer.MIN_VALUE) {
                    warnings.add("software version '" + evidence.swVersion() + "' cannot be compared with the minimum "
                            + policy.minimumVersion() + " (expected numbers separated by dots)");
                } else if (order < 0) {
                    warnings.add("software version " + evidence.swVersion() + " is below group '" + group
                            + "''s minimum " + policy.minimumVersion());
                }
            }
        }
        // Every component with a digest on record is checked, even when all its digests are withdrawn.
        Map<String, Set<String>> allowed = new LinkedHashMap<>();
        for (AttestationPolicy.AllowedDigest d : policy.allowedDigests()) {
            Set<String> digests = allowed.computeIfAbsent(d.component(), c -> new LinkedHashSet<>());
            if (d.allowed()) {
                digests.add(d.sha256());
            }
        }
        for (Map.Entry<String, Set<String>> component : allowed.entrySet()) {
            List<Evidence.Measurement> measured = evidence.measurements().stream()
                    .filter(m -> m.component().equals(component.getKey())).toList();
            if (measured.isEmpty()) {
                warnings.add("component '" + component.getKey() + "' was not measured; group '" + group
                        + "' has reference values for it");
            }
            for (Evidence.Measurement m : measured) {
                if (!component.getValue().contains(m.sha256())) {
                    contraindications.add("component '" + m.component() + "' has digest " + m.sha256()
                            + ", which group '" + group + "' does not allow");
                }
            }
        }
        List<String> reasons = new ArrayList<>(contraindications);
        reasons.addAll(warnings);
        AttestationResult result = !contraindications.isEmpty() ? AttestationResult.CONTRAINDICATED
                : !warnings.isEmpty() ? AttestationResult.WARNING : AttestationResult.AFFIRMING;
        return new Appraisal(result, reasons);
    }

    /**
     * Compares dotted numeric versions ({@code 2.4.10 > 2.4.9}), missing parts counting as 0; a
     * pre-release ({@code 2.5.0-rc1}) comes before its release, as in SemVer; build metadata
     * after '+' is ignored.
     *
     * @return negative, zero or positive; {@link Integer#MIN_VALUE} when either is not numeric
     */
    static int compareVersions(String a, String b) {
        long[] x = parts(a);
        long[] y = parts(b);
        if (x == null || y == null) {
            return Integer.MIN_VALUE;
        }
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? x[i] : 0;
            long q = i < y.length ? y[i] : 0;
            if (p != q) {
                return p < q ? -1 : 1;
            }
        }
        boolean aPre = preRelease(a);
        boolean bPre = preRelease(b);
        return aPre == bPre ? 0 : aPre ? -1 : 1;
    }

    private static boolean preRelease(String version) {
        return version.split("\\+", 2)[0].contains("-");
    }

    private static long[] parts(String version) {
        String core = version.split("[-+]", 2)[0];
        if (!core.matches("\\d{1,9}(\\.\\d{1,9}){0,7}")) {
            return null;
        }
        String[] split = core.split("\\.");
        long[] parts = new long[split.length];
        for (int i = 0; i < split.length; i++) {
            parts[i] = Long.parseLong(split[i]);
        }
        return parts;
    }
}
