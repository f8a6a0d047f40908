package io.fleetkey.server.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a file so that a reader sees the old content or the new, never a mix, even after a
 * crash: a temporary file in the same folder, written and fsynced, then renamed over the target
 * atomically, then the folder fsynced so the rename itself is durable.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** @param permissions POSIX permissions such as {@code rw-r--r--}; ignored where the file system has none */
    public static void write(Path file, byte[] content, String permissions) throws IOException {
        Path target = file.toAbsolutePath();
        Path folder = target.getParent();
        Files.createDirectories(folder);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString(permissions);
        String prefix = "." + target.getFileName();
        Path tmp = posix
                ? Files.createTempFile(folder, prefix, ".tmp", PosixFilePermissions.asFileAttribute(mode))
                : Files.createTempFile(folder, prefix, ".tmp");
        try {
            if (posix) {
                Files.setPosixFilePermissions(tmp, mode); // the umask may have taken some away
            }
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        syncFolder(folder);
    }

    private static void syncFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a folder; the rename is atomic there all the same.
        }
    }
}
