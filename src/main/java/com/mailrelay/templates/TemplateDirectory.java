package com.mailrelay.templates;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Templates kept as files (relay.templates.directory), for those who keep them in git:
 * {@code <workspace>/<name>.subject.hbs} and {@code .text.hbs} and/or {@code .html.hbs}, partials
 * in {@code <workspace>/partials/<name>.hbs}. Read when a send or the API asks for one, and read
 * again only when a file's modification time or the set of files changed (a few stat calls per
 * use), so that a {@code git pull} applies at the next send without a restart.
 */
@Component
public class TemplateDirectory {

    private static final Logger log = LoggerFactory.getLogger(TemplateDirectory.class);
    static final String SUBJECT = ".subject.hbs";
    static final String TEXT = ".text.hbs";
    static final String HTML = ".html.hbs";
    private static final String PARTIALS = "partials";

    private final Path root;
    private final int maxSource;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(String stamp, StoredTemplate template) {
    }

    public TemplateDirectory(RelayProperties properties) {
        String directory = properties.templates().directory();
        this.root = directory == null || directory.isBlank() ? null : Path.of(directory);
        this.maxSource = properties.templates().maxSource();
        if (root != null) {
            log.info("file templates are read from {}", root.toAbsolutePath());
        }
    }

    /** The file template of this name (both already checked as canonical), or null. */
    public StoredTemplate find(String workspace, String name) {
        if (root == null) {
            return null;
        }
        Path dir = root.resolve(workspace);
        Path subject = dir.resolve(name + SUBJECT);
        if (!Files.isRegularFile(subject)) {
            cache.remove(workspace + "/" + name);
            return null;
        }
        try {
            Path text = dir.resolve(name + TEXT);
            Path html = dir.resolve(name + HTML);
            List<Path> partials = partials(dir);
            StringBuilder stamp = new StringBuilder();
            Instant newest = Instant.EPOCH;
            for (Path file : Stream.concat(Stream.of(subject, text, html), partials.stream()).toList()) {
                if (Files.isRegularFile(file)) {
                    FileTime time = Files.getLastModifiedTime(file);
                    stamp.append(file.getFileName()).append('@').append(time.toMillis()).append(';');
                    newest = newest.isAfter(time.toInstant()) ? newest : time.toInstant();
                }
            }
            String key = workspace + "/" + name;
            Cached cached = cache.get(key);
            if (cached != null && cached.stamp().equals(stamp.toString())) {
                return cached.template();
            }
            Map<String, String> partialSources = new HashMap<>();
            for (Path partial : partials) {
                String file = partial.getFileName().toString();
                partialSources.put(file.substring(0, file.length() - ".hbs".length()), read(partial));
            }
            StoredTemplate template = new StoredTemplate(workspace, name, null, read(subject).strip(),
                    Files.isRegularFile(text) ? read(text) : null, Files.isRegularFile(html) ? read(html) : null,
                    partialSources, Map.of(), newest, "file", workspace + "/" + name + ".*.hbs");
            cache.put(key, new Cached(stamp.toString(), template));
            return template;
        } catch (IOException e) {
            throw new UncheckedIOException("the file template " + workspace + "/" + name + " cannot be read", e);
        }
    }

    /** The names of a workspace's file templates, in order. */
    public List<String> names(String workspace) {
        if (root == null || !Files.isDirectory(root.resolve(workspace))) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(root.resolve(workspace))) {
            return files.map(path -> path.getFileName().toString()).filter(file -> file.endsWith(SUBJECT))
                    .map(file -> file.substring(0, file.length() - SUBJECT.length()))
                    .filter(name -> Templates.NAME.matcher(name).matches()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> partials(Path dir) throws IOException {
        Path partials = dir.resolve(PARTIALS);
        if (!Files.isDirectory(partials)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(partials)) {
            return new ArrayList<>(files.filter(file -> file.getFileName().toString().endsWith(".hbs")
                    && Files.isRegularFile(file)).sorted().toList());
        }
    }

    /** A file's text, bounded as a source given through the API is: a stray large file is not read whole. */
    private String read(Path file) throws IOException {
        if (Files.size(file) > 4L * maxSource) {
            throw tooLarge(file);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.length() > maxSource) {
            throw tooLarge(file);
        }
        return text;
    }

    private ValidationException tooLarge(Path file) {
        return new ValidationException(List.of(new FieldError("template", "the template file "
                + root.relativize(file) + " is longer than " + maxSource + " characters (relay.templates.max-source)")));
    }
}
