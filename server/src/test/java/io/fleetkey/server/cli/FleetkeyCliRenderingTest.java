package io.fleetkey.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetkey.server.testing.Json;
import org.junit.jupiter.api.Test;

/**
 * What the command line prints for sample answers of the server, including answers with fields
 * it does not know (they are shown, not dropped); the device CSV's checks; and which arguments
 * of the server's jar run the command line.
 */
class FleetkeyCliRenderingTest {
    private static final String HASH = "9f".repeat(32);

    private static JsonNode json(String text) {
        return Json.parse(text.replace('\'', '"'));
    }

    @Test
    void an_audit_page_is_a_table_with_every_field_and_the_cursor_of_the_next_page() {
        // The sample of docs/fleet-api.md, and an entry with a field this command does not know.
        JsonNode page = json("{'items': ["
                + "{'seq': 41, 'occurredAt': '2026-11-27T15:04:34.123456Z', 'actor': 'api:admin',"
                + " 'action': 'device.revoked', 'deviceId': 'meter-0100', 'subject': 'meter-0100', 'outcome': 'ok',"
                + " 'detail': 'reason keyCompromise', 'hash': '" + HASH + "'},"
                + "{'seq': 42, 'occurredAt': '2026-11-27T15:04:35.000001Z', 'actor': 'api:admin',"
                + " 'action': 'group.created', 'outcome': 'ok', 'hash': '" + HASH + "', 'ticket': 4711}],"
                + " 'next': 42, 'limit': 2}");

        String out = AuditCommand.renderPage(page);

        assertThat(out).isEqualTo(
                "SEQ  AT                    ACTOR      ACTION          DEVICE      SUBJECT     OUTCOME  HASH"
                + "             DETAIL                TICKET\n"
                + "41   2026-11-27T15:04:34Z  api:admin  device.revoked  meter-0100  meter-0100  ok       9f9f9f9f9f9f..."
                + "  reason keyCompromise  -\n"
                + "42   2026-11-27T15:04:35Z  api:admin  group.created   -           -           ok       9f9f9f9f9f9f..."
                + "  -                     4711\n"
                + "limit:  2\n"
                + "more: --after 42\n");
    }

    @Test
    void the_last_audit_page_has_no_cursor_and_an_empty_one_says_so() {
        assertThat(AuditCommand.renderPage(json("{'items': [{'seq': 1, 'occurredAt': '2026-11-27T15:00:00.000000Z',"
                + " 'action': 'group.created'}]}")))
                .isEqualTo("SEQ  AT                    ACTION\n1    2026-11-27T15:00:00Z  group.created\n");
        assertThat(AuditCommand.renderPage(json("{'items': []}"))).isEqualTo("no audit entries\n");
    }

    @Test
    void an_intact_audit_log_shows_its_size_and_the_head_to_keep() {
        String out = AuditCommand.renderVerification(json("{'ok': true, 'entries': 1234, 'head': {'seq': 1234,"
                + " 'hash': '" + HASH + "'}, 'checkedAt': '2026-11-27T16:00:00Z'}"));

        assertThat(out).isEqualTo("the audit log is intact: 1234 entries; head seq 1234, hash " + HASH + "\n"
                + "keep the head where the server cannot write; later: fleetkey audit verify --anchor 1234:" + HASH
                + "\n"
                + "checkedAt:  2026-11-27T16:00:00Z\n");
    }

    @Test
    void a_broken_audit_log_shows_where_and_why_and_everything_else_the_server_found() {
        String out = AuditCommand.renderVerification(json("{'ok': false, 'entries': 16, 'head': {'seq': 1234,"
                + " 'hash': '5d1e'}, 'broken': {'seq': 17, 'problem': 'altered', 'message': 'entry 17 does not match"
                + " its hash', 'expected': 'aa'}, 'walkedAt': 'now'}"));

        assertThat(out).isEqualTo("the audit log is BROKEN at entry 17 (altered): entry 17 does not match its hash\n"
                + "16 entries checked out before it\n"
                + "the server's head seq 1234, hash 5d1e\n"
                + "expected:  aa\n"
                + "walkedAt:  now\n");
    }

    @Test
    void a_dry_run_shows_the_count_the_sample_and_unknown_fields() {
        String out = RevokeByCommand.renderDryRun(json("{'dryRun': true, 'matched': 50, 'alreadyRevoked': 2,"
                + " 'sample': ['pos-0001', 'pos-0002'], 'revoked': 0, 'revokedSerials': 0, 'reason': 'keyCompromise',"
                + " 'filterSummary': 'group kiosks'}"));

        assertThat(out).isEqualTo("50 device(s) match (2 more are revoked already and not counted)\n"
                + "sample (2 of 50): pos-0001, pos-0002\n"
                + "filterSummary:  group kiosks\n");
        assertThat(RevokeByCommand.renderDryRun(json("{'dryRun': true, 'matched': 2, 'alreadyRevoked': 0,"
                + " 'sample': ['pos-0001', 'pos-0002']}")))
                .isEqualTo("2 device(s) match\ndevices: pos-0001, pos-0002\n");
    }

    @Test
    void a_revocation_shows_devices_and_certificates() {
        assertThat(RevokeByCommand.renderRevocation(json("{'dryRun': false, 'matched': 50, 'alreadyRevoked': 0,"
                + " 'sample': [], 'revoked': 50, 'revokedSerials': 61, 'reason': 'keyCompromise'}")))
                .isEqualTo("revoked 50 device(s) and 61 certificate(s), reason keyCompromise\n");
    }

    @Test
    void a_device_list_page_says_where_the_next_page_is() {
        JsonNode page = json("{'items': [{'deviceId': 'm-1', 'group': 'meters', 'status': 'ENROLLED',"
                + " 'createdAt': '2026-11-27T15:00:00.5Z', 'updatedAt': '2026-11-27T15:00:01Z',"
                + " 'attestation': 'affirming', 'attestedAt': '2026-11-27T15:00:01Z'}], 'page': 3, 'size': 1,"
                + " 'total': 7}");

        assertThat(DevicesCommand.renderList(page, false)).isEqualTo(
                "DEVICE  GROUP   STATUS    ATTESTATION  ATTESTED              CREATED               UPDATED\n"
                + "m-1     meters  ENROLLED  affirming    2026-11-27T15:00:01Z  2026-11-27T15:00:00Z  "
                + "2026-11-27T15:00:01Z\n"
                + "devices 4-4 of 7; next: --page 4, or --all\n");
    }

    @Test
    void the_csv_is_checked_line_by_line_before_anything_is_sent() {
        var rows = DeviceCsv.parse("d.csv", List.of("\uFEFFSerial, DeviceId ,Group", "1,a-1,", "2,\"a-2\",kiosks",
                "", "3,a-3,\"meters\""), "meters");

        assertThat(rows).containsExactly(new DeviceCsv.Row(2, "a-1", "meters"), new DeviceCsv.Row(3, "a-2", "kiosks"),
                new DeviceCsv.Row(5, "a-3", "meters"));
        assertThatThrownBy(() -> DeviceCsv.parse("d.csv", List.of("id,group", "a-1,meters"), null))
                .hasMessageContaining("d.csv line 1: the header [id, group] has no deviceId column");
        assertThatThrownBy(() -> DeviceCsv.parse("d.csv", List.of("deviceId"), "meters"))
                .hasMessageContaining("names no device");
        assertThatThrownBy(() -> DeviceCsv.parse("d.csv", List.of("deviceId,group", "a-1", "a/2,g"), null))
                .isInstanceOfSatisfying(CliFailure.class, e -> assertThat(e.exitCode()).isEqualTo(FleetkeyCli.USAGE))
                .hasMessageContaining("line 2: 1 fields where the header has 2")
                .hasMessageContaining("line 3: 'a/2' is not a valid device id");
    }

    @Test
    void revoke_by_filters_are_checked_before_they_are_sent() {
        RevokeByCommand command = new RevokeByCommand();
        command.digest = "firmware:" + HASH.toUpperCase(java.util.Locale.ROOT);
        command.enrolledFrom = "2026-01-01";
        command.enrolledTo = "2026-02-01T12:00:00Z";

        assertThat(Json.write(command.filter())).isEqualTo("{\"digest\":{\"component\":\"firmware\",\"sha256\":\""
                + HASH + "\"},\"enrolledFrom\":\"2026-01-01T00:00:00Z\",\"enrolledTo\":\"2026-02-01T12:00:00Z\"}");
        command.digest = "firmware:abc";
        assertThatThrownBy(command::filter).hasMessageContaining("must be COMPONENT:SHA256 with 64 hex digits");
        assertThatThrownBy(() -> new RevokeByCommand().filter()).hasMessageContaining("give at least one filter");
    }

    @Test
    void the_jar_runs_the_command_line_for_a_command_or_its_options_and_the_server_otherwise() {
        assertThat(FleetkeyCli.wanted(new String[] {"devices", "list"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"--help"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"--version"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"--server", "https://fleetkey:8443", "devices", "list"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"--server=https://fleetkey:8443"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"--json"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {"devics"})).isTrue();
        assertThat(FleetkeyCli.wanted(new String[] {})).isFalse();
        assertThat(FleetkeyCli.wanted(new String[] {"-Dmicronaut.config.files=my.yml"})).isFalse();
        assertThat(FleetkeyCli.wanted(new String[] {"--micronaut.server.port=9000"})).isFalse();
    }
}
