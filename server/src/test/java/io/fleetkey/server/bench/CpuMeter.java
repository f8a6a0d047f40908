package io.fleetkey.server.bench;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the CPU went during a window, for a load generator that shares the JVM and the machine
 * with the server: CPU time per thread (by name, grouped), the JVM's total (the difference is
 * GC, JIT and threads that ended), and what the rest of the machine used meanwhile (/proc/stat
 * busy time minus this JVM's), since other jobs on a small VM skew every figure.
 */
final class CpuMeter {
    private static final Pattern PORT = Pattern.compile(":(\\d{2,5})");
    private static final Pattern COUNTER = Pattern.compile("(?<=[#-])\\d+$|(?<=[-#])\\d+(?=[-#])");
    private static final double JIFFY_SECONDS = 0.01; // USER_HZ is 100 on Linux

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Map<Integer, String> namedPorts = new HashMap<>();
    private volatile Set<Integer> clientPorts = Set.of();

    CpuMeter() {
        if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
            threads.setThreadCpuTimeEnabled(true);
        }
    }

    /** Thread names that carry this port (Scandium names its threads after the bound address) are shown as {@code label}. */
    void namePort(int port, String label) {
        namedPorts.put(port, label);
    }

    /** The ports of the current phase's clients: their threads count as client CPU. */
    void setClientPorts(Set<Integer> ports) {
        clientPorts = ports;
    }

    record Snapshot(long nanos, long processCpuNanos, Map<Long, String> names, Map<Long, Long> threadCpu,
                    long machineBusyJiffies, long machineStealJiffies, long compileMillis, long gcPauseMillis) {
    }

    Snapshot snapshot() {
        long[] ids = threads.getAllThreadIds();
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> cpu = new HashMap<>();
        for (ThreadInfo info : infos) {
            if (info == null) {
                continue;
            }
            long t = threads.getThreadCpuTime(info.getThreadId());
            if (t >= 0) {
                names.put(info.getThreadId(), info.getThreadName());
                cpu.put(info.getThreadId(), t);
            }
        }
        long[] machine = machineJiffies();
        long gc = 0;
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            gc += Math.max(0, collector.getCollectionTime());
        }
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long compile = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
        return new Snapshot(System.nanoTime(), os.getProcessCpuTime(), names, cpu, machine[0], machine[1], compile, gc);
    }

    /**
     * @param processCores  this JVM's CPU over the window, in cores (2.0 = both cores of this machine)
     * @param clientCores   the load generator's threads
     * @param otherCores    the rest of the machine (other processes), from /proc/stat
     * @param stealCores    time the hypervisor gave to other guests
     * @param groups        per thread group (names with counters and ports folded), in cores, largest first,
     *                      plus "JVM (GC, JIT, ended threads)" for the part no live thread accounts for
     * @param jitCores      JIT compilation time over the window (compiler threads' elapsed time), in cores
     * @param gcPauseShare  share of the window spent in GC pauses
     */
    record Usage(double seconds, double processCores, double clientCores, double otherCores, double stealCores,
                 Map<String, Double> groups, double jitCores, double gcPauseShare) {
        double clientShare() {
            return processCores <= 0 ? Double.NaN : clientCores / processCores;
        }

        /** Windows taken one after another as one: every figure weighted by its window's length. */
        static Usage merge(List<Usage> parts) {
            double seconds = parts.stream().mapToDouble(Usage::seconds).sum();
            Map<String, Double> groups = new HashMap<>();
            double process = 0;
            double client = 0;
            double other = 0;
            double steal = 0;
            double jit = 0;
            double gc = 0;
            for (Usage u : parts) {
                double w = u.seconds() / seconds;
                process += w * u.processCores();
                client += w * u.clientCores();
                other += w * u.otherCores();
                steal += w * u.stealCores();
                jit += w * u.jitCores();
                gc += w * u.gcPauseShare();
                u.groups().forEach((g, cores) -> groups.merge(g, w * cores, Double::sum));
            }
            Map<String, Double> sorted = new LinkedHashMap<>();
            groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .forEach(e -> sorted.put(e.getKey(), e.getValue()));
            return new Usage(seconds, process, client, other, steal, sorted, jit, gc);
        }
    }

    Usage usage(Snapshot a, Snapshot b) {
        double seconds = (b.nanos() - a.nanos()) / 1e9;
        Map<String, Double> groups = new HashMap<>();
        double client = 0;
        double threadSum = 0;
        for (Map.Entry<Long, Long> e : b.threadCpu().entrySet()) {
            long before = a.threadCpu().getOrDefault(e.getKey(), 0L);
            double cores = (e.getValue() - before) / 1e9 / seconds;
            if (cores <= 0) {
                continue;
            }
            String group = group(b.names().get(e.getKey()));
            groups.merge(group, cores, Double::sum);
            threadSum += cores;
            if (group.startsWith("bench-client") || group.contains("<client>")) {
                client += cores;
            }
        }
        double process = (b.processCpuNanos() - a.processCpuNanos()) / 1e9 / seconds;
        groups.put("JVM (GC, JIT, ended threads)", Math.max(0, process - threadSum));
        double machineBusy = (b.machineBusyJiffies() - a.machineBusyJiffies()) * JIFFY_SECONDS / seconds;
        double steal = (b.machineStealJiffies() - a.machineStealJiffies()) * JIFFY_SECONDS / seconds;
        Map<String, Double> sorted = new LinkedHashMap<>();
        groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return new Usage(seconds, process, client, Math.max(0, machineBusy - process), steal, sorted,
                (b.compileMillis() - a.compileMillis()) / 1e3 / seconds,
                (b.gcPauseMillis() - a.gcPauseMillis()) / 1e3 / seconds);
    }

    private String group(String name) {
        if (name == null) {
            return "?";
        }
        Matcher m = PORT.matcher(name);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            int port = Integer.parseInt(m.group(1));
            String label = clientPorts.contains(port) ? "<client>" : namedPorts.getOrDefault(port, m.group(1));
            m.appendReplacement(out, ":" + Matcher.quoteReplacement(label));
        }
        m.appendTail(out);
        return COUNTER.matcher(out.toString()).replaceAll("N");
    }

    /** busy (user+nice+system+irq+softirq) and steal jiffies of the whole machine; zeros if /proc is missing. */
    private static long[] machineJiffies() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = line.trim().split("\\s+");
            long user = Long.parseLong(f[1]);
            long nice = Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long irq = Long.parseLong(f[6]);
            long softirq = Long.parseLong(f[7]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            return new long[]{user + nice + system + irq + softirq, steal};
        } catch (IOException | RuntimeException e) {
            return new long[]{0, 0};
        }
    }

    /** One line about the machine for a benchmark's output: time, JVM, cores, load average, CPU pressure. */
    static String machineLine() {
        return String.format(java.util.Locale.ROOT, "%s  java %s, %d cores, load average %s, CPU pressure (some avg10) %.1f%%",
                java.time.LocalDateTime.now().withNano(0).format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME),
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), loadAverage(),
                cpuPressureAvg10());
    }

    /** The three figures of /proc/loadavg, or "?". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** The "some avg10" figure of /proc/pressure/cpu, or NaN. */
    static double cpuPressureAvg10() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/pressure/cpu"))) {
                if (line.startsWith("some")) {
                    for (String part : line.split("\\s+")) {
                        if (part.startsWith("avg10=")) {
                            return Double.parseDouble(part.substring(6));
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not on Linux, or no PSI
        }
        return Double.NaN;
    }
}
