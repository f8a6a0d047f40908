package io.fleetkey.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs outside tools (openssl, curl) as a user would, with a time limit. */
public final class Processes {
    private Processes() {
    }

    public record Result(int exitCode, String output) {
    }

    public static Result run(Path dir, String... command) {
        try {
            Process p = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(60, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0] + " (is it installed?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A command line: the tool, arguments shared by several calls, then these call's own. */
    public static String[] command(String tool, List<String> common, String... more) {
        List<String> c = new java.util.ArrayList<>();
        c.add(tool);
        c.addAll(common);
        c.addAll(List.of(more));
        return c.toArray(String[]::new);
    }

    /** Runs and fails the test with the tool's output unless it exits 0. */
    public static String ok(Path dir, String... command) {
        Result r = run(dir, command);
        if (r.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exitCode() + ":\n" + r.output());
        }
        return r.output();
    }
}
