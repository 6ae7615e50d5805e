package com.mailrelay.routing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteTemplateDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.stereotype.Component;

/**
 * The provider templates: Kamelets ({@code kind: Kamelet}, a JSON schema of parameters in
 * {@code spec.definition}, the route in {@code spec.template}), which Camel's YAML DSL loads as
 * route templates named by {@code metadata.name} — so that {@code templatedRoute:
 * routeTemplateRef: smtp} in routes/ instantiates them.
 *
 * <p>Two sources, both taken up before routes/ is (a providers file may use any of them):
 * <ul>
 * <li>the relay's own, {@value #BUILT_IN} in the jar, loaded once at the first scan and trusted
 * as the relay's code (they call its beans, write files, open SMTP connections);</li>
 * <li>an operator's, the {@code *.kamelet.yaml} files of relay.routes.templates-directory, taken up
 * at start and at every reload of routes/. Each is checked as a route file is, before anything of
 * it reaches the live context ({@link RouteAllowList#checkTemplateStructure},
 * {@link RouteAllowList#checkTemplate}); one that fails is reported with file and line and its
 * previous version (if any) stays in use. A template a loaded route file still uses is never
 * removed; when one changes, the route files that use it are loaded again.</li>
 * </ul>
 */
@Component
public class TemplateFiles {

    static final String SUFFIX = ".kamelet.yaml";
    static final String BUILT_IN = "classpath:templates/*" + SUFFIX;
    private static final Logger log = LoggerFactory.getLogger(TemplateFiles.class);

    private final ModelCamelContext camel;
    private final RelayProperties.Routes settings;
    private final RouteAllowList allowList;
    private final Clock clock;
    /** By template id: every template in use, with its schema. */
    private final Map<String, ProviderTemplate> templates = new TreeMap<>();
    /** By file name: the operator's template files, their content last seen and how its load went. */
    private final Map<String, Loaded> files = new TreeMap<>();
    private boolean builtInLoaded;

    /** {@code gone}: the file was deleted, but its template is kept because a route file uses it. */
    private record Loaded(String hash, String templateId, Instant at, String error, boolean gone) {
        Loaded(String hash, String templateId, Instant at, String error) {
            this(hash, templateId, at, error, false);
        }
    }

    @Autowired
    public TemplateFiles(CamelContext camel, RelayProperties properties, Clock clock) {
        this.camel = (ModelCamelContext) camel;
        this.settings = properties.routes();
        this.allowList = new RouteAllowList(settings);
        this.clock = clock;
    }

    /**
     * relay.routes.templates-directory, or the folder {@code templates} beside
     * relay.routes.directory when that is not set.
     */
    public Path directory() {
        String configured = settings.templatesDirectory();
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path routes = Path.of(settings.directory()).toAbsolutePath().normalize();
        return routes.getParent() == null ? Path.of("templates") : routes.resolveSibling("templates");
    }

    /**
     * Takes up the built-in templates (the first time) and every change in the templates folder.
     * Returns the ids of the templates that are new or changed, so that the route files using them
     * are loaded again; {@code inUse} tells which templates a loaded route file instantiates.
     */
    public synchronized Set<String> scan(Predicate<String> inUse) {
        Set<String> changed = new LinkedHashSet<>();
        if (!builtInLoaded) {
            loadBuiltIn();
            builtInLoaded = true;
        }
        Map<String, String> current = readFiles();
        for (var file : current.entrySet()) {
            Loaded known = files.get(file.getKey());
            if (known == null || known.gone() || !known.hash().equals(Digests.sha256Hex(file.getValue()))) {
                String id = load(file.getKey(), file.getValue());
                if (id != null) {
                    changed.add(id);
                }
            }
        }
        for (String gone : new ArrayList<>(files.keySet())) {
            if (!current.containsKey(gone)) {
                unload(gone, inUse);
            }
        }
        return changed;
    }

    /** Every template in use, built-in first, each with its parameters. */
    public synchronized List<ProviderTemplate> templates() {
        return templates.values().stream()
                .sorted(Comparator.comparing((ProviderTemplate t) -> !t.source().equals(ProviderTemplate.JAR))
                        .thenComparing(ProviderTemplate::id))
                .toList();
    }

    /** The operator's template files and how their last load went; a file's "routes" are the template it holds. */
    public synchronized List<RouteFileStatus> status() {
        return files.entrySet().stream().map(e -> new RouteFileStatus(e.getKey(),
                e.getValue().templateId() == null ? List.of() : List.of(e.getValue().templateId()),
                e.getValue().at(), e.getValue().error())).toList();
    }

    /**
     * The relay's own templates: a broken one (or none found) is a broken build, so it stops the
     * start. Listed through Spring's resolver, which reads the packaged jar's nested folders too.
     */
    private void loadBuiltIn() {
        org.springframework.core.io.Resource[] resources;
        try {
            resources = new PathMatchingResourcePatternResolver(TemplateFiles.class.getClassLoader())
                    .getResources(BUILT_IN.replaceFirst("^classpath:", "classpath*:"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the built-in provider templates " + BUILT_IN, e);
        }
        if (resources.length == 0) {
            throw new IllegalStateException("no built-in provider templates at " + BUILT_IN);
        }
        for (var resource : Arrays.stream(resources).sorted(Comparator.comparing(r -> String.valueOf(r.getFilename())))
                .toList()) {
            String name = resource.getFilename();
            try (InputStream in = resource.getInputStream()) {
                String content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                RouteTemplateDefinition template = parse(camel, name, "classpath:templates/" + name, content);
                camel.addRouteTemplateDefinition(template);
                templates.put(template.getId(), ProviderTemplate.of(template.getId(), ProviderTemplate.JAR, name,
                        RouteAllowList.schema(name, content)));
            } catch (Exception e) {
                throw new IllegalStateException("the built-in provider template " + name + " cannot be loaded: "
                        + RouteFiles.describe(e), e);
            }
        }
        log.info("provider templates built in: {}", templates.keySet());
    }

    /** Checks an operator's template file and, if it passes, puts it in use. Returns its id, or null. */
    private String load(String name, String content) {
        String hash = Digests.sha256Hex(content);
        Loaded previous = files.get(name);
        String previousId = previous == null ? null : previous.templateId();
        try {
            RouteTemplateDefinition template = check(name, content, previousId);
            RouteTemplateDefinition old = previousId == null ? null : camel.getRouteTemplateDefinition(previousId);
            if (old != null) {
                camel.removeRouteTemplateDefinition(old);
                templates.remove(previousId);
            }
            camel.addRouteTemplateDefinition(template);
            templates.put(template.getId(), ProviderTemplate.of(template.getId(), ProviderTemplate.FILE, name,
                    RouteAllowList.schema(name, content)));
            files.put(name, new Loaded(hash, template.getId(), clock.instant(), null));
            log.info("template file {} loaded: template {}", name, template.getId());
            return template.getId();
        } catch (RouteFileException e) {
            files.put(name, new Loaded(hash, previousId, clock.instant(), e.getMessage()));
            log.error("template file {} NOT loaded, {}: {}", name, previousId == null ? "no template of it is in use"
                    : "its previous version of template " + previousId + " stays in use", e.getMessage());
            return null;
        } catch (Exception e) {
            files.put(name, new Loaded(hash, previousId, clock.instant(), name + ": " + RouteFiles.describe(e)));
            log.error("template file {} NOT loaded: {}", name, RouteFiles.describe(e));
            return null;
        }
    }

    /** The whole check, in a candidate context thrown away after; nothing of the file reaches the live one. */
    private RouteTemplateDefinition check(String name, String content, String ownId) throws RouteFileException {
        RouteAllowList.checkTemplateStructure(name, content);
        try (CandidateContext candidate = new CandidateContext(camel)) {
            RouteTemplateDefinition template = parse(candidate.camel(), name, "file:" + directory().resolve(name),
                    content);
            String id = template.getId();
            ProviderTemplate known = templates.get(id);
            if (known != null && !id.equals(ownId)) {
                throw new RouteFileException(RouteFiles.at(name, content, "name: " + id) + ": the template id '" + id
                        + "' is already taken by " + (known.source().equals(ProviderTemplate.JAR)
                        ? "a template of the relay itself" : known.file()));
            }
            allowList.checkTemplate(name, content, template, candidate.camel());
            return template;
        }
    }

    private static RouteTemplateDefinition parse(CamelContext context, String name, String location, String content)
            throws RouteFileException {
        List<RouteTemplateDefinition> parsed;
        try {
            parsed = CandidateContext.templates(context, location, content);
        } catch (Exception e) {
            throw new RouteFileException(name + ": " + RouteFiles.describe(e), e);
        }
        if (parsed.size() != 1) {
            throw new RouteFileException(name + ": a template file holds exactly one Kamelet (found " + parsed.size()
                    + " templates)");
        }
        return parsed.get(0);
    }

    /** A deleted file's template goes, unless a loaded route file still instantiates it. */
    private void unload(String name, Predicate<String> inUse) {
        Loaded loaded = files.get(name);
        String id = loaded.templateId();
        if (id != null && inUse.test(id)) {
            String error = name + ": the file was removed, but template " + id + " is still used by a route file; "
                    + "it stays in use until no route file names it";
            if (!error.equals(loaded.error())) {
                log.error("template file {} removed: {}", name, error);
            }
            files.put(name, new Loaded(loaded.hash(), id, loaded.at(), error, true));
            return;
        }
        if (id != null) {
            RouteTemplateDefinition definition = camel.getRouteTemplateDefinition(id);
            if (definition != null) {
                try {
                    camel.removeRouteTemplateDefinition(definition);
                } catch (Exception e) {
                    log.warn("could not remove template {}", id, e);
                }
            }
            templates.remove(id);
        }
        files.remove(name);
        log.info("template file {} removed, and with it the template {}", name, id);
    }

    private Map<String, String> readFiles() {
        Map<String, String> contents = new TreeMap<>();
        Path directory = directory();
        if (!Files.isDirectory(directory)) {
            return contents;
        }
        try (DirectoryStream<Path> paths = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path path : paths) {
                contents.put(path.getFileName().toString(), Files.readString(path));
            }
        } catch (IOException e) {
            log.warn("cannot read the templates directory {}: {}", directory, e.getMessage());
        }
        return contents;
    }
}
