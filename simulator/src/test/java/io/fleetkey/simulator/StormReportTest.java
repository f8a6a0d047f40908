package io.fleetkey.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import io.fleetkey.agent.Arguments.UsageException;
import io.fleetkey.agent.EstException;
import io.fleetkey.protocol.FailureCode;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class StormReportTest {
    @Test
    void the_report_shows_counts_failures_throughput_and_latency_in_milliseconds() {
        Histogram latency = new Histogram(3_600_000_000L, 3);
        for (int i = 1; i <= 100; i++) {
            latency.recordValue(i * 1_000L); // 1 ms .. 100 ms
        }
        StormReport report = new StormReport(104, 8, 100, new TreeMap<>(Map.of("TOKEN_USED", 3L, "IO:ConnectException", 1L)),
                Map.of("TOKEN_USED", "the enrollment token was already used"), 0, Duration.ofSeconds(4), latency);

        assertThat(report.format()).isEqualTo("""
                Enroll storm: 104 devices, 8 threads, 4.00 s
                  succeeded    100
                  failed       4
                    IO:ConnectException  1
                    TOKEN_USED           3   e.g. the enrollment token was already used
                  throughput   25.0 enrollments/s
                  latency ms   p50 50.0   p90 90.0   p99 99.0   max 100.0
                """.replace("\n", System.lineSeparator()));
    }

    @Test
    void a_storm_without_successes_says_there_is_no_latency_and_counts_what_did_not_run() {
        StormReport report = new StormReport(10, 2, 0, new TreeMap<>(), Map.of(), 10, Duration.ofSeconds(1),
                new Histogram(3_600_000_000L, 3));
        assertThat(report.format()).contains("not run      10 (time ran out)", "throughput   0.0 enrollments/s",
                "no successful enrollment");
    }

    @Test
    void failures_are_grouped_by_the_servers_code_or_status() {
        assertThat(EnrollStorm.failureKind(new EstException(403, FailureCode.TOKEN_USED, "used"))).isEqualTo("TOKEN_USED");
        assertThat(EnrollStorm.failureKind(new EstException(502, null, "bad gateway"))).isEqualTo("HTTP_502");
        assertThat(EnrollStorm.failureKind(new java.net.ConnectException())).isEqualTo("IO:ConnectException");
    }

    @Test
    void only_servers_on_this_machine_are_stormed() throws Exception {
        assertThat(SimulatorCli.loopbackServer("https://127.0.0.1:8443").getPort()).isEqualTo(8443);
        assertThatThrownBy(() -> SimulatorCli.loopbackServer("https://192.0.2.10:8443"))
                .isInstanceOf(UsageException.class).hasMessageContaining("not this machine");
        assertThatThrownBy(() -> SimulatorCli.loopbackServer("http://localhost:8443"))
                .isInstanceOf(UsageException.class).hasMessageContaining("https");
    }
}
