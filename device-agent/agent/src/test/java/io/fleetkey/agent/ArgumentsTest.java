package io.fleetkey.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import io.fleetkey.agent.Arguments.UsageException;
import org.junit.jupiter.api.Test;

class ArgumentsTest {
    private static final Set<String> VALUED = Set.of("--server", "--token", "--devices", "--timeout");
    private static final Set<String> FLAGS = Set.of("--verbose");

    private static Arguments parse(String... args) throws UsageException {
        return Arguments.parse(List.of(args), VALUED, FLAGS);
    }

    @Test
    void values_come_separated_or_after_an_equals_sign() throws Exception {
        Arguments arguments = parse("--server", "https://a:1", "--token=x=y", "--verbose");
        assertThat(arguments.required("--server")).isEqualTo("https://a:1");
        assertThat(arguments.value("--token")).contains("x=y");
        assertThat(arguments.flag("--verbose")).isTrue();
        assertThat(arguments.value("--devices")).isEmpty();
    }

    @Test
    void a_value_may_start_with_dashes_when_it_is_not_an_option_name() throws Exception {
        assertThat(parse("--token", "--AbC-9").value("--token")).contains("--AbC-9");
    }

    @Test
    void unknown_options_are_named_with_the_known_ones() {
        assertThatThrownBy(() -> parse("--sever", "x")).isInstanceOf(UsageException.class)
                .hasMessageContaining("unknown option --sever").hasMessageContaining("--server");
    }

    @Test
    void an_option_without_its_value_is_an_error() {
        assertThatThrownBy(() -> parse("--server")).hasMessageContaining("--server needs a value");
        assertThatThrownBy(() -> parse("--server", "--token", "t")).hasMessageContaining("--server needs a value");
        assertThatThrownBy(() -> parse("--server=")).hasMessageContaining("non-empty");
    }

    @Test
    void repeated_options_and_stray_words_are_errors() {
        assertThatThrownBy(() -> parse("--server", "a", "--server", "b")).hasMessageContaining("more than once");
        assertThatThrownBy(() -> parse("enroll")).hasMessageContaining("unexpected argument 'enroll'");
        assertThatThrownBy(() -> parse("--verbose=yes")).hasMessageContaining("takes no value");
    }

    @Test
    void a_missing_required_option_is_named() {
        assertThatThrownBy(() -> parse().required("--server")).hasMessage("option --server is required");
    }

    @Test
    void numbers_are_checked_against_their_range() throws Exception {
        assertThat(parse("--devices", "10_000").intValue("--devices", 1, 1, 100_000)).isEqualTo(10_000);
        assertThat(parse().intValue("--devices", 7, 1, 10)).isEqualTo(7);
        assertThatThrownBy(() -> parse("--devices", "0").intValue("--devices", 1, 1, 10))
                .hasMessageContaining("between 1 and 10");
        assertThatThrownBy(() -> parse("--devices", "many").intValue("--devices", 1, 1, 10))
                .hasMessageContaining("whole number");
    }

    @Test
    void durations_take_units() throws Exception {
        Duration max = Duration.ofHours(2);
        assertThat(parse("--timeout", "90s").durationValue("--timeout", Duration.ZERO, max)).hasSeconds(90);
        assertThat(parse("--timeout", "10m").durationValue("--timeout", Duration.ZERO, max)).hasMinutes(10);
        assertThat(parse("--timeout", "1h").durationValue("--timeout", Duration.ZERO, max)).hasHours(1);
        assertThat(parse("--timeout", "42").durationValue("--timeout", Duration.ZERO, max)).hasSeconds(42);
        assertThat(parse("--timeout", "250ms").durationValue("--timeout", Duration.ZERO, max)).hasMillis(250);
        assertThatThrownBy(() -> parse("--timeout", "20s").durationValue("--timeout", Duration.ZERO, Duration.ofSeconds(10)))
                .hasMessageContaining("at most 10 seconds");
        assertThatThrownBy(() -> parse("--timeout", "3h").durationValue("--timeout", Duration.ZERO, max))
                .hasMessageContaining("at most 120 minutes");
        assertThatThrownBy(() -> parse("--timeout", "soon").durationValue("--timeout", Duration.ZERO, max))
                .hasMessageContaining("such as 250ms, 90s");
    }
}
