package com.mailrelay.routing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import org.springframework.stereotype.Component;

/**
 * What editing a route file needs besides the upload: its current text, and the check an upload
 * (and a reload) makes, without writing anything. Both only with relay.routes.upload-enabled, and
 * only for files of the routes directory named as route files, of at most {@link #MAX_BYTES}.
 */
@Component("routeFileEditor")
public class RouteFileEditor {

    /** The largest route file read or checked here: a route file is a page of YAML, not a data set. */
    static final int MAX_BYTES = 512 * 1024;
    static final Pattern FILE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}\\.camel\\.yaml");
    /** "file, line N", as the checks name a place. */
    private static final Pattern FILE_LINE = Pattern.compile("\\.camel\\.yaml, line (\\d+)");
    /** A YAML parser's "line N, column M". */
    private static final Pattern LINE_COLUMN = Pattern.compile("line (\\d+), column (\\d+)");

    private final RouteFiles routeFiles;
    private final RelayProperties.Routes settings;

    public RouteFileEditor(RouteFiles routeFiles, RelayProperties properties) {
        this.routeFiles = routeFiles;
        this.settings = properties.routes();
    }

    /** The file's text as it is on disk now, with how its last load went. */
    public RouteSchemas.FileText read(String file) throws IOException {
        allowed(file);
        Path path = routeFiles.directory().resolve(file);
        String content;
        try {
            if (Files.size(path) > MAX_BYTES) {
                throw RouteFileRefusal.tooLarge(MAX_BYTES);
            }
            content = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw RouteFileRefusal.notFound(file);
        }
        RouteFileStatus status = routeFiles.status().stream().filter(s -> s.file().equals(file)).findFirst()
                .orElse(null);
        return new RouteSchemas.FileText(file, content, Digests.sha256Hex(content),
                status == null ? List.of() : status.routes(),
                status == null ? null : status.lastReloadAt(), status == null ? null : status.lastError());
    }

    /** Checks the content as an upload of it would (the same checks as a reload), writing nothing. */
    public RouteSchemas.FileCheck check(String file, String content) {
        allowed(file);
        String text = content == null ? "" : content;
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw RouteFileRefusal.tooLarge(MAX_BYTES);
        }
        try {
            return new RouteSchemas.FileCheck(file, true, routeFiles.validate(file, text), null, null, null);
        } catch (RouteFileException e) {
            Integer[] place = place(e.getMessage());
            return new RouteSchemas.FileCheck(file, false, List.of(), e.getMessage(), place[0], place[1]);
        }
    }

    private void allowed(String file) {
        if (!settings.uploadEnabled()) {
            throw RouteFileRefusal.uploadDisabled();
        }
        if (file == null || !FILE_NAME.matcher(file).matches()) {
            throw RouteFileRefusal.invalidName();
        }
    }

    /**
     * The line and column a check's message names: {line, column}, either null when it names none.
     * The checks name "file, line N"; a YAML parser's reason adds "line N, column M" for the start
     * of what it was reading and then the place it failed, which is the last one.
     */
    static Integer[] place(String message) {
        if (message == null) {
            return new Integer[] {null, null};
        }
        Matcher named = FILE_LINE.matcher(message);
        Integer line = named.find() ? Integer.valueOf(named.group(1)) : null;
        Integer parserLine = null;
        Integer column = null;
        Matcher parser = LINE_COLUMN.matcher(message);
        while (parser.find()) {
            int at = Integer.parseInt(parser.group(1));
            if (line == null || at == line) {
                parserLine = at;
                column = Integer.valueOf(parser.group(2));
            }
        }
        return new Integer[] {line != null ? line : parserLine, column};
    }
}
