package com.mailrelay.routing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Causes;
import com.mailrelay.message.Digests;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.TemplatedRouteDefinition;
import org.apache.camel.model.TemplatedRouteParameterDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Loads the YAML route files of relay.routes.directory and keeps them in use safely while they
 * are edited. A changed file is checked in full before any running route is touched: its plain
 * YAML and its routes against the allow-list ({@link RouteAllowList}), its ids, templates and
 * placeholders, every direct: endpoint it sends to (some route must consume it), and finally its
 * routes built — all in a {@link CandidateContext} of its own, never in the live one. Only then
 * are the file's old routes handed over to the new ones ({@link RouteHandover}: a short drain,
 * the rest given back to the queue). A file that fails keeps its previous routes running and its
 * error is reported. Routes that come from elsewhere (the Java DSL) are never touched.
 */
@Component
public class RouteFiles {

    static final String SUFFIX = ".camel.yaml";
    /** How Camel names an endpoint it could not create. */
    private static final Pattern FAILED_ENDPOINT =
            Pattern.compile("(?:No endpoint could be found for|Failed to resolve endpoint): ([^\\s,]+)");
    private static final Logger log = LoggerFactory.getLogger(RouteFiles.class);

    private final ModelCamelContext camel;
    private final RelayProperties.Routes settings;
    private final RouteAllowList allowList;
    /** The provider templates, taken up before the route files at every scan; null when only validating. */
    private final TemplateFiles templates;
    private final RouteHandover handover = new RouteHandover();
    /** Installed with the first swap: a RouteFiles that only validates never touches the live context. */
    private boolean handoverInstalled;
    private final Clock clock;
    /** By file name: the content last seen, the routes it runs and how its last load went. */
    private final Map<String, Loaded> files = new TreeMap<>();

    /** {@code templates}: the templates the file's templated routes use, in its last version that loaded. */
    private record Loaded(String hash, List<String> routeIds, Set<String> templates, Instant at, String error) {
    }

    record Parsed(List<RouteDefinition> routes, List<TemplatedRouteDefinition> templated, boolean other) {
        List<String> ids() {
            List<String> ids = new ArrayList<>();
            routes.forEach(route -> ids.add(route.getRouteId()));
            templated.forEach(route -> ids.add(route.getRouteId()));
            return ids;
        }
    }

    @Autowired
    public RouteFiles(CamelContext camel, RelayProperties properties, TemplateFiles templates, Clock clock) {
        this(camel, properties.routes(), templates, clock);
    }

    /** With other route settings (another allow-list): for checking files against them. */
    RouteFiles(CamelContext camel, RelayProperties.Routes settings, Clock clock) {
        this(camel, settings, null, clock);
    }

    private RouteFiles(CamelContext camel, RelayProperties.Routes settings, TemplateFiles templates, Clock clock) {
        this.camel = (ModelCamelContext) camel;
        this.settings = settings;
        this.allowList = new RouteAllowList(settings);
        this.templates = templates;
        this.clock = clock;
    }

    public Path directory() {
        return Path.of(settings.directory());
    }

    /**
     * Takes up every change in the directory: new, edited and deleted files. Files that depend on
     * each other (dispatch naming a provider of providers.camel.yaml) may come in any order: files
     * that fail are tried again while that lets more of them load, and only what still fails then
     * is reported. The templates folder is taken up first (a file may use a template of it), and
     * the files using a template that changed are loaded again.
     */
    public synchronized void scan() {
        Set<String> changedTemplates = templates == null ? Set.of() : templates.scan(this::usesTemplate);
        Map<String, String> current = readFiles();
        boolean anyChange = false;
        for (var file : current.entrySet()) {
            Loaded known = files.get(file.getKey());
            if (known == null || !known.hash().equals(Digests.sha256Hex(file.getValue()))
                    || known.templates().stream().anyMatch(changedTemplates::contains)) {
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
        if (!anyChange) {
            return;
        }
        // An edit elsewhere (a route id moved between files, a consumer added, say) may have cleared a failure.
        for (int round = 0; round < current.size(); round++) {
            List<String> failing = failing();
            failing.forEach(name -> load(name, current.get(name)));
            if (failing().size() >= failing.size()) {
                break;
            }
        }
        for (String name : failing()) {
            Loaded failed = files.get(name);
            log.error("route file {} NOT loaded, {} keep running: {}", name, failed.routeIds().isEmpty()
                    ? "no routes of it" : "its previous routes " + failed.routeIds(), failed.error());
        }
    }

    private List<String> failing() {
        return files.entrySet().stream().filter(e -> e.getValue().error() != null).map(Map.Entry::getKey).toList();
    }

    public synchronized List<RouteFileStatus> status() {
        return files.entrySet().stream().map(e -> new RouteFileStatus(e.getKey(), e.getValue().routeIds(),
                e.getValue().at(), e.getValue().error())).toList();
    }

    /** Whether a loaded route file instantiates the template. */
    synchronized boolean usesTemplate(String templateId) {
        return files.values().stream().anyMatch(loaded -> loaded.templates().contains(templateId));
    }

    /** The file a route came from, if it came from one of ours. */
    public synchronized String fileOf(String routeId) {
        return files.entrySet().stream().filter(e -> e.getValue().routeIds().contains(routeId))
                .map(Map.Entry::getKey).findFirst().orElse(null);
    }

    /** Checks a file's content as a load would, without touching any running route; returns its route ids. */
    public synchronized List<String> validate(String name, String content) throws RouteFileException {
        return check(name, content, owned(name));
    }

    /** Loads one file's content (read once, so that what is loaded is what the hash names). */
    private void load(String name, String content) {
        String hash = Digests.sha256Hex(content);
        Loaded previous = files.get(name);
        List<String> running = previous == null ? List.of() : previous.routeIds();
        try {
            List<String> ids = check(name, content, new HashSet<>(running));
            if (ids.isEmpty() && !running.isEmpty()) {
                throw new RouteFileException(name + ": the file has no routes (empty, or saved half-way?); "
                        + "delete the file to remove its routes");
            }
            // Checked: parsing it in the live context now only makes the definitions to run.
            Parsed parsed = parse(camel, name, content);
            swap(name, running, parsed);
            Set<String> used = new HashSet<>();
            parsed.templated().forEach(route -> used.add(route.getRouteTemplateRef()));
            files.put(name, new Loaded(hash, ids, used, clock.instant(), null));
            log.info("route file {} loaded: {}", name, ids);
        } catch (RouteFileException e) {
            // Normally the previous routes still run; after a failed swap only those that were restored.
            running = running.stream().filter(id -> camel.getRoute(id) != null).toList();
            files.put(name, new Loaded(hash, running, previous == null ? Set.of() : previous.templates(),
                    clock.instant(), e.getMessage()));
            // Reported by scan() once no other file's load can clear it.
            log.debug("route file {} not loaded (yet): {}", name, e.getMessage());
        }
    }

    private void unload(String name) {
        List<String> running = files.get(name).routeIds();
        long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
        for (String id : running) {
            stopAndRemove(id, deadline);
        }
        files.remove(name);
        log.info("route file {} removed, and with it the routes {}", name, running);
    }

    private Parsed parse(CamelContext context, String name, String content) throws RouteFileException {
        Parsed parsed;
        try {
            parsed = CandidateContext.parse(context, "file:" + directory().resolve(name), content);
        } catch (Exception e) {
            throw new RouteFileException(name + ": " + describe(e), e);
        }
        if (parsed.other()) {
            throw new RouteFileException(name + ": only route and templatedRoute entries may be in a route "
                    + "file; route templates and REST belong to the relay's Java code");
        }
        return parsed;
    }

    /**
     * The whole check, in a candidate context that is thrown away after: structure and allow-list,
     * ids, templates, consumers and direct: endpoints, then the build. Returns the file's route ids.
     */
    private List<String> check(String name, String content, Set<String> ownIds) throws RouteFileException {
        RouteAllowList.checkStructure(name, content);
        try (CandidateContext candidate = new CandidateContext(camel)) {
            Parsed parsed = parse(candidate.camel(), name, content);
            checkIds(name, content, parsed, ownIds);
            RouteAllowList.Directs directs = new RouteAllowList.Directs();
            for (RouteDefinition route : parsed.routes()) {
                allowList.checkRoute(name, content, route, candidate.camel(), directs);
                checkConsumer(name, content, route.getRouteId(), route.getInput().getEndpointUri(), ownIds, candidate);
            }
            List<RouteDefinition> instances = new ArrayList<>();
            for (TemplatedRouteDefinition route : parsed.templated()) {
                instances.add(checkTemplated(name, content, route, candidate, directs));
            }
            checkDirects(name, content, directs, ownIds);
            build(name, content, parsed.routes(), instances, candidate);
            return parsed.ids();
        }
    }

    /** Ids present and unique, and not taken by a route of another file or of the relay. */
    private void checkIds(String name, String content, Parsed parsed, Set<String> ownIds) throws RouteFileException {
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
    }

    /** The template exists with the parameters given; its instance stays within the allow-list. */
    private RouteDefinition checkTemplated(String name, String content, TemplatedRouteDefinition route,
                                           CandidateContext candidate, RouteAllowList.Directs directs)
            throws RouteFileException {
        String where = at(name, content, route.getRouteId());
        if (route.getBeans() != null && !route.getBeans().isEmpty()) {
            throw new RouteFileException(where + ": beans are not allowed in a route file");
        }
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
        Map<String, String> values = RouteAllowList.checkParameters(where, text -> at(name, content, text),
                route.getRouteId(), template, given, candidate.camel());
        RouteDefinition instance;
        try {
            instance = candidate.instantiate(route);
        } catch (Exception e) {
            throw new RouteFileException(where + ": route " + route.getRouteId() + ": " + describe(e), e);
        }
        Path outbox = Path.of(candidate.camel().resolvePropertyPlaceholders("{{relay.outbox.directory}}"));
        allowList.checkInstance(where, route.getRouteId(), instance, values, candidate.camel(), outbox, directs);
        return instance;
    }

    /** A new route may not consume an endpoint that a route of another file (or of the relay) consumes. */
    private void checkConsumer(String name, String content, String id, String uri, Set<String> ownIds,
                               CandidateContext candidate) throws RouteFileException {
        String normalized;
        try {
            normalized = candidate.camel().getEndpoint(uri).getEndpointUri();
        } catch (RuntimeException e) {
            return;                              // an unknown endpoint: the build reports it
        }
        for (Route other : camel.getRoutes()) {
            if (!ownIds.contains(other.getId()) && other.getEndpoint().getEndpointUri().equals(normalized)) {
                String file = fileOf(other.getId());
                throw new RouteFileException(at(name, content, uri) + ": route " + id + " consumes " + uri
                        + ", which route " + other.getId() + " (" + (file != null ? file : "the relay itself")
                        + ") already consumes");
            }
        }
    }

    /**
     * Every direct: endpoint the file sends to is consumed — by the file itself or by a running
     * route of another file or of the relay — and no running route loses the consumer it sends to
     * because this version of the file dropped it. (A sender would otherwise fail every message.)
     */
    private void checkDirects(String name, String content, RouteAllowList.Directs directs, Set<String> ownIds)
            throws RouteFileException {
        // What a file may send to: its own routes and those of other route files. The relay's own
        // direct: endpoints (accept, defer, dead-letter, the management API) are not for routing.
        Set<String> consumed = new HashSet<>(directs.consumed());
        Set<String> relays = new HashSet<>();
        Set<String> droppable = new HashSet<>();
        for (Route route : camel.getRoutes()) {
            String uri = route.getEndpoint().getEndpointUri();
            if (uri.startsWith("direct:")) {
                String direct = RouteAllowList.directName(uri);
                (ownIds.contains(route.getId()) ? droppable : fileOf(route.getId()) != null ? consumed : relays)
                        .add(direct);
            }
        }
        for (var sent : directs.sent().entrySet()) {
            String where = sent.getValue() > 0 ? name + ", line " + sent.getValue()
                    : at(name, content, "direct:" + sent.getKey());
            if (relays.contains(sent.getKey()) && !consumed.contains(sent.getKey())) {
                throw new RouteFileException(where + ": direct:" + sent.getKey() + " is a route of the relay "
                        + "itself, not one a route file may send to");
            }
            if (!consumed.contains(sent.getKey())) {
                throw new RouteFileException(where + ": no route consumes direct:" + sent.getKey()
                        + " (no route of this file or of another route file has it as its from); "
                        + "messages sent there would fail");
            }
        }
        droppable.removeAll(consumed);
        if (droppable.isEmpty()) {
            return;
        }
        for (RouteDefinition other : camel.getRouteDefinitions()) {
            if (other.getRouteId() == null || ownIds.contains(other.getRouteId())) {
                continue;
            }
            for (String target : RouteAllowList.directSends(other, camel)) {
                if (droppable.contains(target)) {
                    String file = fileOf(other.getRouteId());
                    throw new RouteFileException(name + ": this version no longer has a route that consumes direct:"
                            + target + ", which route " + other.getRouteId() + " ("
                            + (file != null ? file : "the relay itself") + ") sends to; change that route first");
                }
            }
        }
    }

    /**
     * Builds the file's routes in the candidate context (stopped: it never starts), so that unknown
     * components, bad endpoint options and unresolvable placeholders show up now.
     */
    private void build(String name, String content, List<RouteDefinition> routes, List<RouteDefinition> instances,
                       CandidateContext candidate) throws RouteFileException {
        try {
            candidate.build(routes);
        } catch (Exception e) {
            String reason = describe(e);
            Matcher endpoint = FAILED_ENDPOINT.matcher(reason);
            String where = endpoint.find() ? at(name, content, endpoint.group(1).replaceFirst("://", ":")) : name;
            throw new RouteFileException(where + ": " + reason, e);
        }
        for (RouteDefinition instance : instances) {
            try {
                candidate.build(List.of(instance));
            } catch (Exception e) {
                throw new RouteFileException(at(name, content, instance.getRouteId()) + ": route "
                        + instance.getRouteId() + ": " + describe(e), e);
            }
        }
    }

    /** Hands the file's old routes over (short drain, the rest given back), then starts the new ones. */
    private void swap(String name, List<String> running, Parsed fresh) throws RouteFileException {
        Map<String, RouteDefinition> previous = new LinkedHashMap<>();
        long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
        for (String id : running) {
            RouteDefinition definition = camel.getRouteDefinition(id);
            if (definition != null) {
                previous.put(id, definition);
            }
            stopAndRemove(id, deadline);
        }
        if (!handoverInstalled) {
            camel.addRoutePolicyFactory(handover);
            handoverInstalled = true;
        }
        handover.watch(fresh.ids());
        try {
            camel.addRouteDefinitions(fresh.routes());
            for (TemplatedRouteDefinition route : fresh.templated()) {
                camel.addRouteFromTemplatedRoute(route);
            }
        } catch (Exception e) {
            // Validated, so unexpected: put the previous routes back rather than run without them.
            fresh.ids().forEach(id -> stopAndRemove(id, System.nanoTime()));
            try {
                camel.addRouteDefinitions(previous.values());
            } catch (Exception restore) {
                log.error("route file {}: could not restore the previous routes", name, restore);
            }
            throw new RouteFileException(name + ": " + describe(e), e);
        }
    }

    private void stopAndRemove(String id, long deadline) {
        try {
            handover.stopAndRemove(camel, id, deadline);
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
        return Causes.describe(failure, Throwable::getCause, " — ");
    }
}
