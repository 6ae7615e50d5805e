package com.mailrelay.templates;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.Json;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Stored templates of a workspace: the steps of /api/v1/templates (templates/TemplateApiRoutes
 * decides who may call them) and the lookup and render a send makes (ingress/rest). A template is
 * its workspace's file ({@link TemplateDirectory}), which wins and is read-only here, or its
 * stored versions ({@link TemplateStore}): creating makes version 1, each update the next, and a
 * version never changes. Every source is checked (bounded, Handlebars syntax) before it is stored,
 * so that a send meets only the errors of its data.
 */
@Component("templates")
public class Templates {

    private static final Logger log = LoggerFactory.getLogger(Templates.class);

    public static final Pattern NAME = Pattern.compile("[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?");
    static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}(?:\\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}");
    static final int MAX_SUBJECT = 2000;
    static final int MAX_DEFAULTS = 100;
    static final int MAX_DEFAULT_VALUE = 1000;
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;

    private final TemplateStore store;
    private final TemplateDirectory files;
    private final TemplateRenderer renderer;
    private final Callers callers;
    private final Workspaces workspaces;
    private final Clock clock;
    private final int maxSource;
    private final int maxPartials;

    public Templates(TemplateStore store, TemplateDirectory files, TemplateRenderer renderer, Callers callers,
                     Workspaces workspaces, Clock clock, RelayProperties properties) {
        this.store = store;
        this.files = files;
        this.renderer = renderer;
        this.callers = callers;
        this.workspaces = workspaces;
        this.clock = clock;
        this.maxSource = properties.templates().maxSource();
        this.maxPartials = properties.templates().maxPartials();
    }

    // ---- sends

    /**
     * The template a send names: the file of that name, or the stored version (the latest when
     * none is given). Not found is a 400 of the send's field, since the request is what is wrong.
     */
    public StoredTemplate forSend(String workspace, String name, Integer version) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw invalid("template.name", "is required: 1 to 64 lower-case letters, digits, - and _");
        }
        StoredTemplate file = files.find(workspace, name);
        if (file != null) {
            if (version != null) {
                throw invalid("template.version", "template " + name + " is the file " + file.file()
                        + ", which has no versions: leave version out");
            }
            return file;
        }
        if (version != null && version < 1) {
            throw invalid("template.version", "must be 1 or more");
        }
        StoredTemplate found = version == null ? store.latest(workspace, name) : store.version(workspace, name, version);
        if (found == null) {
            throw invalid(version == null ? "template.name" : "template.version", "this workspace has no template "
                    + name + (version == null ? "" : " version " + version));
        }
        return found;
    }

    /** The template rendered with one recipient's data; a 400 of {@code field} naming part, line and field. */
    public TemplateRenderer.Rendered render(StoredTemplate template, Map<String, Object> data, String field) {
        return renderer.render(template, data, field);
    }

    // ---- the API

    /** POST /api/v1/templates: version 1 of a new name. */
    public TemplateViews.TemplateView create(Exchange exchange, @Header("workspace") String requested, String body) {
        String workspace = workspace(exchange, requested);
        Map<?, ?> request = object(body);
        List<FieldError> errors = new ArrayList<>();
        String name = request.get("name") instanceof String s ? s : null;
        if (name == null || !NAME.matcher(name).matches()) {
            errors.add(new FieldError("name", "is required: 1 to 64 lower-case letters, digits, - and _"
                    + " (not - or _ at either end)"));
        }
        StoredTemplate template = sources(workspace, name, request, exchange, errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        refuseFile(workspace, name);
        StoredTemplate stored = store.insertFirst(template);
        return stored(exchange, stored, "created");
    }

    /** PUT /api/v1/templates/{name}: the next version. */
    public TemplateViews.TemplateView update(Exchange exchange, @Header("workspace") String requested,
                                             @Header("name") String name, String body) {
        String workspace = workspace(exchange, requested);
        checkName(name);
        Map<?, ?> request = object(body);
        List<FieldError> errors = new ArrayList<>();
        if (request.containsKey("name") && !name.equals(request.get("name"))) {
            errors.add(new FieldError("name", "is the path's; a template cannot be renamed (create another)"));
        }
        StoredTemplate template = sources(workspace, name, request, exchange, errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        refuseFile(workspace, name);
        if (store.highest(workspace, name) == 0) {
            throw new TemplateNotFoundException("this workspace has no template " + name
                    + ": POST /api/v1/templates creates it");
        }
        return stored(exchange, store.insertNext(template), "updated");
    }

    /** GET /api/v1/templates: names in order, {@code ?cursor=&limit=}. */
    public TemplateViews.TemplatePage list(Exchange exchange, @Header("workspace") String requested,
                                           @Header("cursor") String cursorParam, @Header("limit") String limitParam) {
        String workspace = workspace(exchange, requested);
        QueryParameters q = new QueryParameters();
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        String after = q.textCursor("cursor", cursorParam);
        q.check();
        String from = after;
        TreeSet<String> names = new TreeSet<>(store.names(workspace, from, limit + 1));
        files.names(workspace).stream().filter(name -> from == null || name.compareTo(from) > 0).forEach(names::add);
        List<TemplateViews.TemplateSummary> page = new ArrayList<>();
        for (String name : names) {
            if (page.size() == limit) {
                break;
            }
            StoredTemplate template = files.find(workspace, name);
            if (template == null) {
                template = store.latest(workspace, name);
            }
            if (template != null) {
                page.add(new TemplateViews.TemplateSummary(name, template.version(),
                        template.file() == null ? "api" : "file", template.createdAt()));
            }
        }
        String next = names.size() > limit && !page.isEmpty() ? QueryParameters.textCursorOf(page.get(page.size() - 1).name())
                : null;
        return new TemplateViews.TemplatePage(page, next);
    }

    /** GET /api/v1/templates/{name}[?version=]: the latest version or the one asked for. */
    public TemplateViews.TemplateView get(Exchange exchange, @Header("workspace") String requested,
                                          @Header("name") String name, @Header("version") String versionParam) {
        String workspace = workspace(exchange, requested);
        StoredTemplate template = find(workspace, name, versionParam);
        return TemplateViews.TemplateView.of(template,
                template.file() == null ? store.versions(workspace, name) : List.of());
    }

    /** DELETE /api/v1/templates/{name}: every version; a file template is the file's to remove. */
    public TemplateViews.DeletedView delete(Exchange exchange, @Header("workspace") String requested,
                                            @Header("name") String name) {
        String workspace = workspace(exchange, requested);
        checkName(name);
        refuseFile(workspace, name);
        int deleted = store.delete(workspace, name);
        if (deleted == 0) {
            throw new TemplateNotFoundException("this workspace has no template " + name);
        }
        audited(exchange, workspace, name, Map.of("name", name, "versions", deleted, "deleted", true));
        log.info("template {} of {} deleted ({} versions) by {}", name, workspace, deleted,
                Callers.caller(exchange).actor());
        return new TemplateViews.DeletedView(workspace, name, deleted, true);
    }

    /** POST /api/v1/templates/{name}/preview[?version=]: rendered with the sample data, or the send's 400. */
    public TemplateViews.PreviewView preview(Exchange exchange, @Header("workspace") String requested,
                                             @Header("name") String name, @Header("version") String versionParam,
                                             String body) {
        String workspace = workspace(exchange, requested);
        StoredTemplate template = find(workspace, name, versionParam);
        Map<?, ?> request = body == null || body.isBlank() ? Map.of() : object(body);
        List<FieldError> errors = new ArrayList<>();
        unknown(request, Set.of("data"), errors);
        Object data = request.get("data");
        if (data != null && !(data instanceof Map)) {
            errors.add(new FieldError("data", "must be an object"));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> sample = data == null ? Map.of() : (Map<String, Object>) data;
        TemplateRenderer.Rendered rendered = renderer.render(template, sample, "data");
        return new TemplateViews.PreviewView(name, template.version(), rendered.subject(), rendered.text(),
                rendered.html());
    }

    // ---- helpers

    /**
     * The workspace a request acts on: a workspace key's own (403 for another), or the one an admin
     * key names with ?workspace= (required: templates are always a workspace's).
     */
    private String workspace(Exchange exchange, String requested) {
        String workspace = callers.scope(exchange, requested);
        if (workspace == null) {
            throw invalid("workspace", "is required with an admin key: the workspace whose templates these are");
        }
        if (workspaces.find(workspace).isEmpty()) {
            throw new TemplateNotFoundException("no workspace " + workspace);
        }
        return workspace;
    }

    private StoredTemplate find(String workspace, String name, String versionParam) {
        checkName(name);
        Integer version = null;
        if (versionParam != null && !versionParam.isBlank()) {
            try {
                version = Integer.parseInt(versionParam.trim());
            } catch (NumberFormatException e) {
                version = -1;
            }
            if (version < 1) {
                throw invalid("version", "must be a whole number from 1");
            }
        }
        StoredTemplate file = files.find(workspace, name);
        if (file != null) {
            if (version != null) {
                throw invalid("version", "template " + name + " is the file " + file.file() + ", which has no versions");
            }
            return file;
        }
        StoredTemplate found = version == null ? store.latest(workspace, name) : store.version(workspace, name, version);
        if (found == null) {
            throw new TemplateNotFoundException("this workspace has no template " + name
                    + (version == null ? "" : " version " + version));
        }
        return found;
    }

    /** The sources of a create or update body, each checked; errors are added, not thrown. */
    private StoredTemplate sources(String workspace, String name, Map<?, ?> request,
                                   Exchange exchange, List<FieldError> errors) {
        unknown(request, Set.of("name", "subject", "text", "html", "partials", "defaults"), errors);
        Map<String, String> partials = new LinkedHashMap<>();
        Object rawPartials = request.get("partials");
        if (rawPartials instanceof Map<?, ?> map) {
            if (map.size() > maxPartials) {
                errors.add(new FieldError("partials", "at most " + maxPartials + " (relay.templates.max-partials)"));
            }
            map.forEach((key, value) -> {
                String field = "partials." + printable(String.valueOf(key));
                if (!NAME.matcher(String.valueOf(key)).matches()) {
                    errors.add(new FieldError(field, "is not a partial name: 1 to 64 lower-case letters, digits,"
                            + " - and _"));
                } else if (!(value instanceof String source) || source.isBlank()) {
                    errors.add(new FieldError(field, "must be a Handlebars source (a string)"));
                } else {
                    partials.put(String.valueOf(key), source);
                }
            });
            partials.forEach((key, source) -> checkSource("partials." + key, source, partials, errors));
        } else if (rawPartials != null) {
            errors.add(new FieldError("partials", "must be an object of partial names to sources"));
        }
        String subject = request.get("subject") instanceof String s ? s : null;
        if (subject == null || subject.isBlank()) {
            errors.add(new FieldError("subject", "is required: the subject's Handlebars source"));
        } else if (subject.length() > MAX_SUBJECT || subject.indexOf('\r') >= 0 || subject.indexOf('\n') >= 0) {
            errors.add(new FieldError("subject", "must be one line of at most " + MAX_SUBJECT + " characters"));
        } else if (Addresses.controlCharacter(subject, false) != null) {
            errors.add(new FieldError("subject", "must not contain control characters"));
        } else {
            renderer.syntaxError(subject, partials).ifPresent(problem -> errors.add(new FieldError("subject", problem)));
        }
        String text = optionalSource("text", request.get("text"), partials, errors);
        String html = optionalSource("html", request.get("html"), partials, errors);
        if (text == null && html == null && !request.containsKey("text") && !request.containsKey("html")) {
            errors.add(new FieldError("text", "a body is required: give text, html or both"));
        }
        Map<String, Object> defaults = new LinkedHashMap<>();
        Object rawDefaults = request.get("defaults");
        if (rawDefaults instanceof Map<?, ?> map) {
            if (map.size() > MAX_DEFAULTS) {
                errors.add(new FieldError("defaults", "at most " + MAX_DEFAULTS));
            }
            map.forEach((key, value) -> {
                String field = "defaults." + printable(String.valueOf(key));
                if (!FIELD.matcher(String.valueOf(key)).matches()) {
                    errors.add(new FieldError(field, "is not a field as a template writes it (e.g. user.first_name)"));
                } else if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
                    errors.add(new FieldError(field, "must be a string, number or boolean"));
                } else if (value.toString().length() > MAX_DEFAULT_VALUE
                        || Addresses.controlCharacter(value.toString(), true) != null) {
                    errors.add(new FieldError(field, "must be at most " + MAX_DEFAULT_VALUE
                            + " characters without control characters"));
                } else {
                    defaults.put(String.valueOf(key), value);
                }
            });
        } else if (rawDefaults != null) {
            errors.add(new FieldError("defaults", "must be an object of fields to values"));
        }
        return new StoredTemplate(workspace, name, null, subject, text, html, partials, defaults, clock.instant(),
                errors.isEmpty() ? Callers.caller(exchange).actor() : "", null);
    }

    private String optionalSource(String field, Object value, Map<String, String> partials, List<FieldError> errors) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String source) || source.isBlank()) {
            errors.add(new FieldError(field, "must be a Handlebars source (a string, not blank)"));
            return null;
        }
        return checkSource(field, source, partials, errors) ? source : null;
    }

    private boolean checkSource(String field, String source, Map<String, String> partials, List<FieldError> errors) {
        if (source.length() > maxSource) {
            errors.add(new FieldError(field, "is longer than " + maxSource + " characters (relay.templates.max-source)"));
            return false;
        }
        if (source.indexOf('\0') >= 0) {
            errors.add(new FieldError(field, "must not contain NUL"));
            return false;
        }
        var problem = renderer.syntaxError(source, partials);
        problem.ifPresent(message -> errors.add(new FieldError(field, message)));
        return problem.isEmpty();
    }

    private TemplateViews.TemplateView stored(Exchange exchange, StoredTemplate stored, String what) {
        List<String> parts = new ArrayList<>(List.of("subject"));
        if (stored.text() != null) {
            parts.add("text");
        }
        if (stored.html() != null) {
            parts.add("html");
        }
        audited(exchange, stored.workspace(), stored.name(), Map.of("name", stored.name(), "version",
                stored.version(), "parts", parts, "partials", List.copyOf(stored.partials().keySet()),
                "defaults", List.copyOf(stored.defaults().keySet())));
        log.info("template {} v{} of {} {} by {}", stored.name(), stored.version(), stored.workspace(), what,
                stored.createdBy());
        return TemplateViews.TemplateView.of(stored, store.versions(stored.workspace(), stored.name()));
    }

    private void refuseFile(String workspace, String name) {
        StoredTemplate file = files.find(workspace, name);
        if (file != null) {
            throw new TemplateConflictException("template " + name + " is the file " + file.file()
                    + " (relay.templates.directory): change the file, not the API's copy");
        }
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new TemplateNotFoundException("no template of this name: a template's name is 1 to 64 lower-case"
                    + " letters, digits, - and _");
        }
    }

    private static void unknown(Map<?, ?> request, Set<String> known, List<FieldError> errors) {
        for (Object key : request.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                errors.add(new FieldError(printable(String.valueOf(key)), "unknown field; the fields are "
                        + new TreeSet<>(known)));
            }
        }
    }

    private static void audited(Exchange exchange, String workspace, String target, Map<String, Object> change) {
        exchange.setProperty(Audited.WORKSPACE, workspace);
        exchange.setProperty(Audited.TARGET, target);
        exchange.setProperty(Audited.CHANGE, change);
    }

    private static Map<?, ?> object(String body) {
        Object parsed;
        try {
            parsed = body == null || body.isBlank() ? null : Json.read(body);
        } catch (IllegalArgumentException e) {
            parsed = null;
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw invalid("body", "must be a JSON object");
        }
        return map;
    }

    private static ValidationException invalid(String field, String message) {
        return new ValidationException(List.of(new FieldError(field, message)));
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(128).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
