package com.mailrelay.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * How a {@link ForkedRelay} child JVM is given its classes: the test class path with its class
 * directories (target/classes, target/test-classes) packed into jars, and a class data sharing
 * archive of the classes a relay start loads. A child then maps those classes from the archive
 * instead of reading, parsing and verifying them one by one out of some 270 jars, which takes
 * roughly a third off each child's start (the JVM writes such an archive only for a class path of
 * jars: a class directory on it turns sharing off).
 *
 * <p>The archive is written once, by a training child on the embedded default that starts, is
 * ready and stops ({@code -XX:ArchiveClassesAtExit}), and kept in target/forked-relay/ with a stamp
 * of the JVM and of every class path entry's size and time: both surefire executions and both test
 * JVMs of a run share it (a file lock makes one of them write it while the other waits), and a
 * later run reuses it until a class changes. When the archive cannot be made, or the child's JVM
 * finds it does not fit, the child starts without it, as before, only slower.
 */
final class ChildClassPath {

    private static final Path DIRECTORY = Path.of("target", "forked-relay").toAbsolutePath();
    private static final Path ARCHIVE = DIRECTORY.resolve("relay.jsa");
    private static final Path STAMP = DIRECTORY.resolve("relay.jsa.stamp");

    private static List<String> options;

    private ChildClassPath() {
    }

    /** The child's JVM options for its classes: {@code -cp <jars>} and, when there is one, the archive. */
    static synchronized List<String> options() {
        if (options == null) {
            options = prepare();
        }
        return options;
    }

    private static List<String> prepare() {
        try {
            Files.createDirectories(DIRECTORY);
            try (FileChannel channel = FileChannel.open(DIRECTORY.resolve("lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
                 FileLock lock = channel.lock()) {
                String classPath = jarsOnly(System.getProperty("java.class.path"));
                List<String> classes = List.of("-cp", classPath);
                String stamp = stamp(classPath);
                if (!(Files.exists(ARCHIVE) && Files.exists(STAMP) && Files.readString(STAMP).equals(stamp))) {
                    Files.deleteIfExists(STAMP);
                    if (!train(classes)) {
                        return classes;
                    }
                    Files.writeString(STAMP, stamp);
                }
                List<String> withArchive = new ArrayList<>(classes);
                withArchive.add("-XX:SharedArchiveFile=" + ARCHIVE);
                return withArchive;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare the class path of a relay process", e);
        }
    }

    /** The class path with each class directory replaced by a jar of it (made again when its files changed). */
    private static String jarsOnly(String classPath) throws IOException {
        List<String> entries = new ArrayList<>();
        int index = 0;
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                Path jar = DIRECTORY.resolve((index++) + "-" + path.getFileName() + ".jar");
                Path fingerprint = DIRECTORY.resolve(jar.getFileName() + ".fingerprint");
                String current = fingerprint(path);
                if (!Files.exists(jar) || !Files.exists(fingerprint) || !Files.readString(fingerprint).equals(current)) {
                    pack(path, jar);
                    Files.writeString(fingerprint, current);
                }
                entries.add(jar.toString());
            } else if (!entry.isEmpty()) {
                entries.add(entry);
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** Every file of the directory by relative path, size and time, digested. */
    private static String fingerprint(Path directory) throws IOException {
        MessageDigest digest = sha256();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                digest.update((directory.relativize(file) + " " + Files.size(file) + " "
                        + Files.getLastModifiedTime(file).toMillis() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** A jar of the directory, directory entries included (class path scanning looks for them). */
    private static void pack(Path directory, Path jar) throws IOException {
        Path temporary = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(temporary);
             JarOutputStream zip = new JarOutputStream(out);
             Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted().toList()) {
                if (path.equals(directory)) {
                    continue;
                }
                String name = directory.relativize(path).toString().replace(java.io.File.separatorChar, '/');
                if (Files.isDirectory(path)) {
                    zip.putNextEntry(new JarEntry(name + "/"));
                    zip.closeEntry();
                } else {
                    zip.putNextEntry(new JarEntry(name));
                    Files.copy(path, zip);
                    zip.closeEntry();
                }
            }
        }
        Files.move(temporary, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** What the archive was made for: this JVM and every class path entry as it is now. */
    private static String stamp(String classPath) throws IOException {
        StringBuilder stamp = new StringBuilder(System.getProperty("java.home")).append('\n')
                .append(System.getProperty("java.vm.version")).append('\n');
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            stamp.append(entry);
            if (Files.isRegularFile(path)) {
                stamp.append(' ').append(Files.size(path)).append(' ').append(Files.getLastModifiedTime(path).toMillis());
            }
            stamp.append('\n');
        }
        return stamp.toString();
    }

    /** A child on the embedded default that starts, is ready and stops, writing the archive as it exits. */
    private static boolean train(List<String> classes) throws IOException {
        Path written = DIRECTORY.resolve("relay.jsa.tmp");
        Files.deleteIfExists(written);
        Files.deleteIfExists(ARCHIVE);
        List<String> classOptions = new ArrayList<>(List.of("-XX:ArchiveClassesAtExit=" + written));
        classOptions.addAll(classes);
        ForkedRelay training = ForkedRelay.builder().configuration(ForkedRelay.Configuration.EMBEDDED_DEFAULT)
                .classOptions(classOptions).start();
        try {
            training.awaitReady(Duration.ofMinutes(3));
            training.terminate();
            training.awaitExit(Duration.ofMinutes(2));
        } catch (RuntimeException e) {
            System.err.println("relay processes start without a class data sharing archive: the training start failed: " + e);
            training.close();
            return false;
        }
        if (!Files.exists(written) || Files.size(written) == 0) {
            System.err.println("relay processes start without a class data sharing archive: none was written:\n"
                    + training.tail(20));
            return false;
        }
        Files.move(written, ARCHIVE, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
