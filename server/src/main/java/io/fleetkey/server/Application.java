package io.fleetkey.server;

import java.util.Map;

import io.fleetkey.server.cli.FleetkeyCli;
import io.micronaut.runtime.Micronaut;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityScheme;

/**
 * Starts the Fleetkey server: CA, registry, EST over HTTPS, fleet API. With a command as first
 * argument ({@code devices list}, {@code --help}, ...) the same jar is the fleet managers' command
 * line instead, which starts no server and loads no Micronaut class.
 */
@OpenAPIDefinition(info = @Info(title = "fleetkey", version = "1", description =
        "Fleetkey: EST enrollment (RFC 7030) and the fleet-manager API"))
@SecurityScheme(name = "bearer", type = SecuritySchemeType.HTTP, scheme = "bearer")
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        if (FleetkeyCli.wanted(args)) {
            FleetkeyCli.main(args);
        } else {
            startServer(args);
        }
    }

    private static void startServer(String[] args) {
        Micronaut.build(args).mainClass(Application.class).banner(false).start();
    }

    /**
     * Starts a server inside the calling process, as the simulator's demo does, with these
     * settings over the defaults ({@code fleetkey.data-dir}, ports, ...). Closing what it returns
     * stops the server.
     */
    public static AutoCloseable start(Map<String, Object> settings) {
        return Micronaut.build(new String[0]).mainClass(Application.class).properties(settings).banner(false).start();
    }
}
