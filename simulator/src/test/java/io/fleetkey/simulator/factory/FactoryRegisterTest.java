package io.fleetkey.simulator.factory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.fleetkey.protocol.Certificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code factory register} against a stand-in of the fleet API over real HTTPS. */
class FactoryRegisterTest {
    private static final Map<String, String> ENV = Map.of(FactoryCommand.PASSWORD_ENV, "correct horse battery staple",
            FactoryCommand.ADMIN_TOKEN_ENV, FakeFleetApi.TOKEN);

    @TempDir
    Path temp;
    private FakeFleetApi api;
    private Path dir;
    private Path chain;

    record Result(int status, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        api = new FakeFleetApi();
        chain = temp.resolve("chain.pem");
        Files.writeString(chain, api.certificatePem());
        dir = temp.resolve("acme");
        assertThat(run(ENV, "init", "--dir", dir.toString(), "--maker", "Acme Devices").status()).isZero();
        assertThat(run(ENV, "issue", "--dir", dir.toString(), "--prefix", "m-", "--count", "5").status()).isZero();
    }

    @AfterEach
    void tearDown() {
        api.close();
    }

    private static Result run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new FactoryCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(List.of(args));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Result register(String... extra) {
        List<String> args = new ArrayList<>(List.of("register", "--dir", dir.toString(), "--server", api.url(),
                "--ca-cert", chain.toString(), "--group", "meters"));
        args.addAll(List.of(extra));
        return run(ENV, args.toArray(String[]::new));
    }

    private String makerPem() throws Exception {
        return Files.readString(dir.resolve("maker-ca.pem"));
    }

    @Test
    void a_new_group_is_created_with_the_maker_ca_and_crl_and_every_device_is_registered() throws Exception {
        assertThat(run(ENV, "revoke", "--dir", dir.toString(), "--devices", "m-000005").status()).isZero();

        Result result = register();

        assertThat(result.status()).as(result.err()).isZero();
        assertThat(api.makerCas.get("meters")).containsExactly(makerPem());
        assertThat(api.makerCrls.get("meters")).containsExactly(Files.readString(dir.resolve("maker-ca.crl.pem")));
        assertThat(api.deviceGroups).containsOnlyKeys("m-000001", "m-000002", "m-000003", "m-000004", "m-000005")
                .containsValue("meters");
        assertThat(result.out()).contains("Created group 'meters'", "5 registered now, 0 were registered already")
                .doesNotContain("tok-");
    }

    @Test
    void a_second_run_changes_nothing_that_is_in_place() throws Exception {
        run(ENV, "crl", "--dir", dir.toString());
        assertThat(register().status()).isZero();
        run(ENV, "issue", "--dir", dir.toString(), "--prefix", "m-", "--count", "7");
        api.calls.clear();

        Result again = register();

        assertThat(again.status()).as(again.err()).isZero();
        assertThat(again.out()).contains("trusts maker CA", "has this maker CRL already",
                "2 registered now, 5 were registered already");
        assertThat(api.calls).noneMatch(c -> c.startsWith("PATCH"));
        assertThat(api.deviceGroups).hasSize(7);
    }

    @Test
    void an_existing_group_without_maker_cas_gets_this_one() throws Exception {
        api.makerCas.put("meters", List.of());

        Result result = register("--no-devices");

        assertThat(result.status()).as(result.err()).isZero();
        assertThat(api.makerCas.get("meters")).containsExactly(makerPem());
        assertThat(api.calls).contains("PATCH /api/v1/groups/meters").doesNotContain("POST /api/v1/devices/bulk");
    }

    @Test
    void other_makers_cas_are_never_dropped_from_a_group() throws Exception {
        Path other = temp.resolve("other");
        run(ENV, "init", "--dir", other.toString(), "--maker", "Other Maker");
        String otherPem = Files.readString(other.resolve("maker-ca.pem"));
        api.makerCas.put("meters", List.of(otherPem));

        Result refused = register();

        assertThat(refused.status()).isEqualTo(FactoryCommand.SETUP_FAILED);
        assertThat(refused.err()).contains("also trusts other maker CAs", "Other Maker",
                MakerRegistration.sha256(Certificates.fromPem(otherPem).get(0)), "--keep-maker-cas");
        assertThat(api.makerCas.get("meters")).containsExactly(otherPem);
        assertThat(api.deviceGroups).isEmpty();

        Result kept = register("--keep-maker-cas", other.resolve("maker-ca.pem").toString());

        assertThat(kept.status()).as(kept.err()).isZero();
        assertThat(api.makerCas.get("meters")).containsExactly(otherPem, makerPem());
    }

    @Test
    void the_crl_of_a_shared_group_keeps_the_other_makers_crls() throws Exception {
        Path other = temp.resolve("other");
        run(ENV, "init", "--dir", other.toString(), "--maker", "Other Maker");
        run(ENV, "crl", "--dir", other.toString());
        String otherCrl = Files.readString(other.resolve("maker-ca.crl.pem"));
        api.makerCas.put("meters", List.of(Files.readString(other.resolve("maker-ca.pem"))));
        api.makerCrls.put("meters", List.of(otherCrl));
        run(ENV, "crl", "--dir", dir.toString());
        String keep = other.resolve("maker-ca.pem").toString();

        Result refused = register("--keep-maker-cas", keep);
        assertThat(refused.status()).isEqualTo(FactoryCommand.SETUP_FAILED);
        assertThat(refused.err()).contains("CRLs of other makers", "--keep-maker-crls");
        assertThat(api.makerCrls.get("meters")).containsExactly(otherCrl);

        Result kept = register("--keep-maker-cas", keep, "--keep-maker-crls", other.resolve("maker-ca.crl.pem").toString());
        assertThat(kept.status()).as(kept.err()).isZero();
        assertThat(api.makerCrls.get("meters")).containsExactly(otherCrl, Files.readString(dir.resolve("maker-ca.crl.pem")));
    }

    @Test
    void a_shared_group_without_other_crls_takes_the_maker_crl_as_it_is() throws Exception {
        Path other = temp.resolve("other");
        run(ENV, "init", "--dir", other.toString(), "--maker", "Other Maker");
        api.makerCas.put("meters", List.of(Files.readString(other.resolve("maker-ca.pem"))));
        run(ENV, "crl", "--dir", dir.toString());

        Result result = register("--keep-maker-cas", other.resolve("maker-ca.pem").toString(), "--no-devices");

        assertThat(result.status()).as(result.err()).isZero();
        assertThat(api.makerCrls.get("meters")).containsExactly(Files.readString(dir.resolve("maker-ca.crl.pem")));
    }

    @Test
    void devices_registered_in_another_group_are_named_and_the_rest_registered() {
        api.makerCas.put("lab", List.of());
        api.deviceGroups.put("m-000003", "lab");

        Result result = register();

        assertThat(result.status()).isEqualTo(FactoryCommand.PARTLY_DONE);
        assertThat(result.out()).contains("1 devices are registered in another group", "m-000003");
        assertThat(api.deviceGroups).containsEntry("m-000003", "lab").containsEntry("m-000001", "meters")
                .containsEntry("m-000005", "meters");
    }

    @Test
    void a_refused_token_says_which_option_to_check() {
        Result result = run(Map.of(FactoryCommand.ADMIN_TOKEN_ENV, "wrong-token-wrong"), "register", "--dir",
                dir.toString(), "--server", api.url(), "--ca-cert", chain.toString(), "--group", "meters");

        assertThat(result.status()).isEqualTo(FactoryCommand.SETUP_FAILED);
        assertThat(result.err()).contains("did not accept the admin token", "FLEETKEY_ADMIN_TOKEN")
                .doesNotContain("wrong-token-wrong");
    }

    @Test
    void a_server_that_is_not_the_one_of_the_ca_chain_is_refused() throws Exception {
        Result result = run(ENV, "register", "--dir", dir.toString(), "--server", api.url(), "--ca-cert",
                dir.resolve("maker-ca.pem").toString(), "--group", "meters");

        assertThat(result.status()).isEqualTo(FactoryCommand.SETUP_FAILED);
        assertThat(result.err()).contains("no TLS connection", "--ca-cert");
        assertThat(api.calls).isEmpty();
    }

    @Test
    void an_unreachable_server_says_so() {
        String url = api.url();
        api.close();

        Result result = run(ENV, "register", "--dir", dir.toString(), "--server", url, "--ca-cert", chain.toString(),
                "--group", "meters");

        assertThat(result.status()).isEqualTo(FactoryCommand.SETUP_FAILED);
        assertThat(result.err()).contains("cannot reach " + url);
    }
}
