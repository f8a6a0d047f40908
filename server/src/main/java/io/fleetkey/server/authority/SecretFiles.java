package io.fleetkey.server.authority;

import java.io.IOException;
import java.nio.file.Path;

import io.fleetkey.server.util.AtomicFiles;

/** Writes files that hold secrets: owner read/write only (0600), replaced atomically. */
public final class SecretFiles {
    private SecretFiles() {
    }

    public static void write(Path file, byte[] content) throws IOException {
        AtomicFiles.write(file, content, "rw-------");
    }
}
