package io.fleetkey.simulator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FailureThresholdTest {
    @Test
    void a_count_allows_that_many_unsuccessful_operations() {
        FailureThreshold threshold = FailureThreshold.parse("3");
        assertThat(threshold.exceededBy(3, 10)).isFalse();
        assertThat(threshold.exceededBy(4, 10_000)).isTrue();
        assertThat(FailureThreshold.NONE.exceededBy(0, 5)).isFalse();
        assertThat(FailureThreshold.NONE.exceededBy(1, 5)).isTrue();
        assertThat(threshold).hasToString("3");
    }

    @Test
    void a_share_allows_that_percentage_of_the_operations() {
        FailureThreshold threshold = FailureThreshold.parse(" 0.5% ");
        assertThat(threshold.exceededBy(5, 1000)).isFalse();
        assertThat(threshold.exceededBy(6, 1000)).isTrue();
        assertThat(FailureThreshold.parse("100%").exceededBy(10, 10)).isFalse();
        assertThat(threshold).hasToString("0.5%");
    }

    @Test
    void the_exit_status_follows_the_report() {
        RunReport report = SampleRuns.realistic();
        long unsuccessful = report.totalUnsuccessful();
        assertThat(unsuccessful).isGreaterThan(180);
        assertThat(FailureThreshold.NONE.exitStatus(report)).isEqualTo(FailureThreshold.EXIT_FAILURES);
        assertThat(FailureThreshold.parse(Long.toString(unsuccessful)).exitStatus(report)).isEqualTo(FailureThreshold.EXIT_OK);
        assertThat(FailureThreshold.parse("10%").exitStatus(report)).isEqualTo(FailureThreshold.EXIT_OK);
        assertThat(FailureThreshold.parse("1%").exitStatus(report)).isEqualTo(FailureThreshold.EXIT_FAILURES);
    }

    @Test
    void nonsense_is_refused_with_the_forms_it_takes() {
        for (String bad : new String[]{"", "-1", "ten", "101%", "-2%", "%"}) {
            assertThatThrownBy(() -> FailureThreshold.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("a count such as 0 or 25, or a share of the operations such as 0.5%");
        }
    }
}
