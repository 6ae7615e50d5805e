package com.mailrelay.routing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.accept.Digests;
import com.mailrelay.config.RelayProperties;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.TemplatedRouteDefinition;
import org.apache.camel.model.TemplatedRouteParameterDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Loads the YAML route files of relay.routes.directory and keeps them in use safely while they
 * are edited. A changed file is parsed and its routes built (as stopped candidates) before any
 * running route is touched; only if that succeeds are the file's old routes drained (graceful
 * stop: in-flight exchanges finish) and replaced. A file that fails keeps its previous routes
 * running and its error is reported. Routes that come from elsewhere (the Java DSL) are never
 * touched.
 */
@Component
public class RouteFiles {

    static final String SUFFIX = ".camel.yaml";
    /** Prefix of the ids under which a changed file's routes are test-built, stopped, then dropped. */
    private static final String CANDIDATE = "candidate~";
    /** How Camel names an endpoint it could not create. */
    private static final Pattern FAILED_ENDPOINT =
            Pattern.compile("(?:No endpoint could be found for|Failed to resolve endpoint): ([^\\s,]+)");
    private static final Logger log = LoggerFactory.getLogger(RouteFiles.class);

    private final ModelCamelContext camel;
    private final RelayProperties.Routes settings;
    private final Clock clock;
    /** By file name: the content last seen, the routes it runs and how its last load went. */
    private final Map<String, Loaded> files = new TreeMap<>();

    private record Loaded(String hash, List<String> routeIds, Instant at, String error) {
    }

    private record Parsed(List<RouteDefinition> routes, List<TemplatedRouteDefinition> templated) {
        List<String> ids() {
            List<String> ids = new ArrayList<>();
            routes.forEach(route -> ids.add(route.getRouteId()));
            templated.forEach(route -> ids.add(route.getRouteId()));
            return ids;
        }
    }

    public RouteFiles(CamelContext camel, RelayProperties properties, Clock clock) {
        this.camel = (ModelCamelContext) camel;
        this.settings = properties.routes();
        this.clock = clock;
    }

    public Path directory() {
        return Path.of(settings.directory());
    }

    /** Takes up every change in the directory: new, edited and deleted files. */
    public synchronized void scan() {
        Map<String, String> current = readFiles();
        boolean anyChange = false;
        for (var file : current.entrySet()) {
            Loaded known = files.get(file.getKey());
            if (known == null || !known.hash().equals(Digests.sha256Hex(file.getValue()))) {
                load(file.getKey(), file.getValue());
                anyChange = true;
            }
        }
        for (String gone : new ArrayList<>(files.keySet())) {
            if (!current.containsKey(gone)) {
                unload(gone);
                anyChange = true;
            }
        }
        if (anyChange) {
            // An edit elsewhere (a route id moved between files, say) may have cleared a failure.
            files.entrySet().stream().filter(e -> e.getValue().error() != null).map(Map.Entry::getKey).toList()
                    .forEach(name -> load(name, current.get(name)));
        }
    }

    public synchronized List<RouteFileStatus> status() {
        return files.entrySet().stream().map(e -> new RouteFileStatus(e.getKey(), e.getValue().routeIds(),
                e.getValue().at(), e.getValue().error())).toList();
    }

    /** The file a route came from, if it came from one of ours. */
    public synchronized String fileOf(String routeId) {
        return files.entrySet().stream().filter(e -> e.getValue().routeIds().contains(routeId))
                .map(Map.Entry::getKey).findFirst().orElse(null);
    }

    /** Checks a file's content as a load would, without touching any running route. */
    public synchronized void validate(String name, String content) throws RouteFileException {
        Parsed parsed = parse(name, content);
        check(name, content, parsed, owned(name));
        buildCandidates(name, content);
    }

    /** Loads one file's content (read once, so that what is loaded is what the hash names). */
    private void load(String name, String content) {
        String hash = Digests.sha256Hex(content);
        Loaded previous = files.get(name);
        List<String> running = previous == null ? List.of() : previous.routeIds();
        try {
            Parsed parsed = parse(name, content);
            if (parsed.ids().isEmpty() && !running.isEmpty()) {
                throw new RouteFileException(name + ": the file has no routes (empty, or saved half-way?); "
                        + "delete the file to remove its routes");
            }
            check(name, content, parsed, new HashSet<>(running));
            buildCandidates(name, content);
            swap(name, running, parse(name, content));
            files.put(name, new Loaded(hash, parsed.ids(), clock.instant(), null));
            log.info("route file {} loaded: {}", name, parsed.ids());
        } catch (RouteFileException e) {
            // Normally the previous routes still run; after a failed swap only those that were restored.
            running = running.stream().filter(id -> camel.getRoute(id) != null).toList();
            files.put(name, new Loaded(hash, running, clock.instant(), e.getMessage()));
            log.error("route file {} NOT loaded, {} keep running: {}", name,
                    running.isEmpty() ? "no routes of it" : "its previous routes " + running, e.getMessage());
        }
    }

    private void unload(String name) {
        List<String> running = files.get(name).routeIds();
        for (String id : running) {
            stopAndRemove(id);
        }
        files.remove(name);
        log.info("route file {} removed, and with it the routes {}", name, running);
    }

    private Parsed parse(String name, String content) throws RouteFileException {
        Resource resource = ResourceHelper.fromString("file:" + directory().resolve(name), content);
        List<RouteDefinition> routes = new ArrayList<>();
        List<TemplatedRouteDefinition> templated = new ArrayList<>();
        try {
            Collection<RoutesBuilder> builders = PluginHelper.getRoutesLoader(camel).findRoutesBuilders(List.of(resource));
            for (RoutesBuilder builder : builders) {
                RouteBuilder routeBuilder = (RouteBuilder) builder;
                routes.addAll(routeBuilder.configureRoutes(camel).getRoutes());
                templated.addAll(routeBuilder.getTemplatedRouteCollection().getTemplatedRoutes());
                if (!routeBuilder.getRouteTemplateCollection().getRouteTemplates().isEmpty()
                        || !routeBuilder.getRestCollection().getRests().isEmpty()) {
                    throw new RouteFileException(name + ": only route and templatedRoute entries may be in a route "
                            + "file; route templates and REST belong to the relay's Java code");
                }
            }
        } catch (RouteFileException e) {
            throw e;
        } catch (Exception e) {
            throw new RouteFileException(name + ": " + describe(e), e);
        }
        return new Parsed(routes, templated);
    }

    /** Ids present and unique, templates known with their required parameters, placeholders resolvable. */
    private void check(String name, String content, Parsed parsed, Set<String> ownIds) throws RouteFileException {
        Set<String> seen = new HashSet<>();
        for (RouteDefinition route : parsed.routes()) {
            if (!route.hasCustomIdAssigned()) {
                throw new RouteFileException(name + ": a route from " + route.getInput().getEndpointUri()
                        + " has no id; every route in a route file needs one");
            }
        }
        for (String id : parsed.ids()) {
            if (id == null || id.isBlank()) {
                throw new RouteFileException(name + ": a templatedRoute has no routeId");
            }
            if (!seen.add(id)) {
                throw new RouteFileException(at(name, content, id) + ": duplicate route id '" + id + "' in this file");
            }
            if (camel.getRoute(id) != null && !ownIds.contains(id)) {
                String other = fileOf(id);
                throw new RouteFileException(at(name, content, id) + ": duplicate route id '" + id
                        + "', already used by " + (other != null ? other : "a route of the relay itself"));
            }
        }
        for (RouteDefinition route : parsed.routes()) {
            checkConsumer(name, content, route.getRouteId(), route.getInput().getEndpointUri(), ownIds);
        }
        for (TemplatedRouteDefinition route : parsed.templated()) {
            RouteTemplateDefinition template = camel.getRouteTemplateDefinition(route.getRouteTemplateRef());
            if (template == null) {
                throw new RouteFileException(at(name, content, route.getRouteTemplateRef()) + ": route "
                        + route.getRouteId() + " uses the route template '" + route.getRouteTemplateRef()
                        + "', which does not exist");
            }
            Map<String, String> given = new LinkedHashMap<>();
            if (route.getParameters() != null) {
                for (TemplatedRouteParameterDefinition parameter : route.getParameters()) {
                    given.put(parameter.getName(), parameter.getValue());
                }
            }
            for (var parameter : template.getTemplateParameters()) {
                boolean required = parameter.isRequired() && parameter.getDefaultValue() == null;
                if (required && !given.containsKey(parameter.getName())) {
                    throw new RouteFileException(at(name, content, route.getRouteId()) + ": route "
                            + route.getRouteId() + " lacks the parameter '"
                            + parameter.getName() + "' of template '" + route.getRouteTemplateRef() + "'");
                }
            }
            for (var parameter : given.entrySet()) {
                try {
                    camel.resolvePropertyPlaceholders(parameter.getValue());
                } catch (RuntimeException e) {
                    throw new RouteFileException(at(name, content, parameter.getValue()) + ": route "
                            + route.getRouteId() + ", parameter '" + parameter.getKey() + "': " + describe(e), e);
                }
            }
        }
    }

    /** A new route may not consume an endpoint that a route of another file (or of the relay) consumes. */
    private void checkConsumer(String name, String content, String id, String uri, Set<String> ownIds)
            throws RouteFileException {
        String normalized;
        try {
            normalized = camel.getEndpoint(uri).getEndpointUri();
        } catch (RuntimeException e) {
            return;                              // an unknown endpoint: the candidate build reports it
        }
        for (Route other : camel.getRoutes()) {
            if (!ownIds.contains(other.getId()) && !other.getId().startsWith(CANDIDATE)
                    && other.getEndpoint().getEndpointUri().equals(normalized)) {
                String file = fileOf(other.getId());
                throw new RouteFileException(at(name, content, uri) + ": route " + id + " consumes " + uri
                        + ", which route " + other.getId() + " (" + (file != null ? file : "the relay itself")
                        + ") already consumes");
            }
        }
    }

    /**
     * Builds the file's plain routes under temporary ids, stopped, so that unknown components,
     * bad endpoint options and unresolvable placeholders show up now — then removes them.
     */
    private void buildCandidates(String name, String content) throws RouteFileException {
        // A fresh parse: candidates get other ids, so they cannot share definitions with the swap.
        Parsed fresh = parse(name, content);
        List<RouteDefinition> candidates = fresh.routes();
        for (RouteDefinition candidate : candidates) {
            candidate.setId(CANDIDATE + candidate.getRouteId());
            candidate.autoStartup(false);
        }
        try {
            camel.addRouteDefinitions(candidates);
        } catch (Exception e) {
            String reason = describe(e).replace(CANDIDATE, "");
            Matcher endpoint = FAILED_ENDPOINT.matcher(reason);
            String where = endpoint.find() ? at(name, content, endpoint.group(1).replaceFirst("://", ":")) : name;
            throw new RouteFileException(where + ": " + reason, e);
        } finally {
            for (RouteDefinition candidate : candidates) {
                try {
                    camel.removeRouteDefinition(candidate);
                } catch (Exception ignored) {
                    // it may never have been added
                }
            }
        }
        // Templated routes are built too, under a candidate id and provider id (so that their
        // direct:provider-... endpoint does not meet the running one), then removed.
        for (TemplatedRouteDefinition candidate : fresh.templated()) {
            String id = candidate.getRouteId();
            candidate.setRouteId(CANDIDATE + id);
            if (candidate.getParameters() != null) {
                for (TemplatedRouteParameterDefinition parameter : candidate.getParameters()) {
                    if (parameter.getName().equals("providerId")) {
                        parameter.setValue("candidate-" + parameter.getValue());
                    }
                }
            }
            try {
                camel.addRouteFromTemplatedRoute(candidate);
            } catch (Exception e) {
                throw new RouteFileException(at(name, content, id) + ": route " + id + ": "
                        + describe(e).replace(CANDIDATE, ""), e);
            } finally {
                stopAndRemove(CANDIDATE + id);
            }
        }
    }

    /** Drains and removes the file's old routes, then starts the new ones. */
    private void swap(String name, List<String> running, Parsed fresh) throws RouteFileException {
        Map<String, RouteDefinition> previous = new LinkedHashMap<>();
        for (String id : running) {
            RouteDefinition definition = camel.getRouteDefinition(id);
            if (definition != null) {
                previous.put(id, definition);
            }
            stopAndRemove(id);
        }
        try {
            camel.addRouteDefinitions(fresh.routes());
            for (TemplatedRouteDefinition route : fresh.templated()) {
                camel.addRouteFromTemplatedRoute(route);
            }
        } catch (Exception e) {
            // Validated, so unexpected: put the previous routes back rather than run without them.
            fresh.ids().forEach(this::stopAndRemove);
            try {
                camel.addRouteDefinitions(previous.values());
            } catch (Exception restore) {
                log.error("route file {}: could not restore the previous routes", name, restore);
            }
            throw new RouteFileException(name + ": " + describe(e), e);
        }
    }

    private void stopAndRemove(String id) {
        try {
            if (camel.getRoute(id) != null) {
                camel.getRouteController().stopRoute(id, settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
                camel.removeRoute(id);
            }
            RouteDefinition definition = camel.getRouteDefinition(id);
            if (definition != null) {
                camel.removeRouteDefinition(definition);
            }
        } catch (Exception e) {
            log.warn("could not stop and remove route {}", id, e);
        }
    }

    private Set<String> owned(String name) {
        Loaded loaded = files.get(name);
        return loaded == null ? Set.of() : new HashSet<>(loaded.routeIds());
    }

    private Map<String, String> readFiles() {
        Map<String, String> contents = new TreeMap<>();
        if (!Files.isDirectory(directory())) {
            return contents;
        }
        try (DirectoryStream<Path> paths = Files.newDirectoryStream(directory(), "*" + SUFFIX)) {
            for (Path path : paths) {
                contents.put(path.getFileName().toString(), Files.readString(path));
            }
        } catch (IOException e) {
            log.warn("cannot read the route directory {}: {}", directory(), e.getMessage());
        }
        return contents;
    }

    /** "file, line N" for the first non-comment line that contains {@code text}, or just the file. */
    static String at(String name, String content, String text) {
        if (text != null && !text.isBlank()) {
            String[] lines = content.split("\\R", -1);
            for (int i = 0; i < lines.length; i++) {
                int found = lines[i].indexOf(text);
                if (found >= 0 && !lines[i].trim().startsWith("#")) {
                    return name + ", line " + (i + 1);
                }
            }
        }
        return name;
    }

    /** The causes' messages, most specific last, without repeats: they name line, column and reason. */
    static String describe(Throwable failure) {
        StringBuilder text = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable cause = failure; cause != null && seen.add(cause); cause = cause.getCause()) {
            String message = cause.getMessage();
            if (message != null && !text.toString().contains(message.trim())) {
                text.append(text.isEmpty() ? "" : " — ").append(message.trim());
            }
        }
        return text.isEmpty() ? failure.getClass().getSimpleName() : text.toString();
    }
}
