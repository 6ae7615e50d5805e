package com.mailrelay.routing;

import java.io.StringReader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.CamelContext;
import org.apache.camel.LineNumberAware;
import org.apache.camel.NamedNode;
import org.apache.camel.model.BeanDefinition;
import org.apache.camel.model.ChoiceDefinition;
import org.apache.camel.model.CircuitBreakerDefinition;
import org.apache.camel.model.ExpressionSubElementDefinition;
import org.apache.camel.model.LoadBalanceDefinition;
import org.apache.camel.model.LogDefinition;
import org.apache.camel.model.OutputNode;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.SendDefinition;
import org.apache.camel.model.SetHeaderDefinition;
import org.apache.camel.model.SetHeadersDefinition;
import org.apache.camel.model.ToDynamicDefinition;
import org.apache.camel.model.TryDefinition;
import org.apache.camel.model.language.ExpressionDefinition;
import org.apache.camel.model.language.MethodCallExpression;
import org.apache.camel.model.loadbalancer.CustomLoadBalancerDefinition;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * What a route file may use: what routing needs and nothing that reaches outside the relay. A
 * route file decides where mail goes; it must not read files, run commands, create beans, open
 * HTTP endpoints or post data anywhere — whoever can write one (an admin key, write access to
 * routes/) could otherwise do all that with the relay's rights.
 *
 * <p>Checked in two passes, both before Camel builds anything:
 * <ol>
 * <li>the plain YAML (SnakeYAML, no Camel): only {@code route} and {@code templatedRoute} entries
 * with known keys — in particular no {@code beans:}, which Camel's YAML loader would instantiate
 * (constructor, factory and init methods) while merely parsing the file;</li>
 * <li>the parsed model: every EIP, every endpoint URI (from, to, toD, wireTap) and every expression
 * language against the allow-lists below, each extended by name with relay.routes.allowed-*.</li>
 * </ol>
 * Templated routes may use the provider templates, whose own endpoints (smtp, smtps, file) are the
 * relay's code; their parameters are checked so that they cannot rewrite those endpoints.
 *
 * <p>An operator's own template (a Kamelet of relay.routes.templates-directory) is checked the same
 * way, in the same two passes ({@link #checkTemplateStructure}, {@link #checkTemplate}), with what a
 * provider template needs besides: the provider templates' endpoint schemes, {@code setBody}, and
 * calls to the beans the built-in templates are made of ({@link #TEMPLATE_BEANS}) — no other bean.
 */
final class RouteAllowList {

    /** Endpoint schemes a route file may name: routing between routes, and logging. */
    static final Set<String> SCHEMES = Set.of("direct", "log");
    /** The components the provider templates (src/main/resources/templates) are built on. */
    static final Set<String> TEMPLATE_SCHEMES = Set.of("smtp", "smtps", "file", "http", "https");
    /** Expression languages that only read the message: no scripts, no bean calls, no lookups. */
    static final Set<String> LANGUAGES = Set.of("simple", "constant", "header", "exchangeProperty", "jsonpath");
    /** EIPs (their YAML names) that routing needs. */
    static final Set<String> EIPS = Set.of("choice", "when", "otherwise", "loadBalance", "filter", "setHeader",
            "setHeaders", "setProperty", "removeHeader", "removeHeaders", "removeProperty", "removeProperties",
            "throttle", "log", "to", "toD", "wireTap", "multicast", "pipeline", "step", "stop", "delay",
            "circuitBreaker", "onFallback", "doTry", "doCatch", "doFinally");

    /** What a template may use besides: setting the body, and the provider beans (and no other bean). */
    static final Set<String> TEMPLATE_EIPS = Set.of("setBody", "bean");
    /**
     * The beans the built-in templates call: failure classification, the breakers, the outgoing
     * MIME (header rules, DKIM), quotas, the SMTP envelope, and each HTTP provider type's request
     * mapper and reply classifier.
     */
    static final Set<String> TEMPLATE_BEANS = Set.of("providerFailures", "providerBreakers", "outgoingMime",
            "dkimSigning", "providerQuotas", "smtpEnvelope",
            "mailgunRequest", "mailgunReplies", "postmarkRequest", "postmarkReplies",
            "sendGridRequest", "sendGridReplies", "sesSender", "sesReplies", "gmailRequest", "gmailReplies");

    /**
     * Load balancers of the relay's code a route file may name ({@code customLoadBalancer: ref:}):
     * strategy.LeastInFlightLoadBalancer. Any other bean is refused, as for every bean.
     */
    static final Set<String> LOAD_BALANCER_BEANS = Set.of("leastInFlight");
    /**
     * The one computed direct: endpoint a route file may send to: the provider a submission named.
     * Safe because the header can only hold a provider id checked at accept (strategy.ProviderOverrides,
     * message.ProviderIds: a-z, 0-9, -) and DeliveryHeaders sets nothing else, so the name can only be a
     * route of the direct:provider-* family, never direct:accept or an endpoint option.
     */
    static final String PROVIDER_OVERRIDE_URI = "direct:provider-${header.relayProviderOverride}";

    private static final Set<String> ENTRIES = Set.of("route", "templatedRoute");
    private static final Set<String> KAMELET_KEYS = Set.of("apiVersion", "kind", "metadata", "spec");
    private static final Set<String> METADATA_KEYS = Set.of("name", "labels", "annotations");
    private static final Set<String> SPEC_KEYS = Set.of("definition", "template");
    private static final Set<String> DEFINITION_KEYS = Set.of("title", "description", "type", "required",
            "properties");
    private static final Set<String> PROPERTY_KEYS = Set.of("title", "description", "type", "default", "format",
            "enum", "example", "pattern", "x-descriptors");
    private static final Set<String> TEMPLATE_KEYS = Set.of("from", "description");
    private static final Pattern TEMPLATE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Set<String> ROUTE_KEYS = Set.of("id", "description", "group", "nodePrefixId", "from",
            "steps", "autoStartup", "startupOrder", "logMask", "messageHistory", "trace", "streamCache", "note",
            "shutdownRoute", "shutdownRunningTask");
    private static final Set<String> TEMPLATED_ROUTE_KEYS = Set.of("routeTemplateRef", "routeId", "prefixId",
            "parameters", "description");
    /**
     * Simple-language functions that reach beyond the message: the registry, the CamelContext, the
     * exchange object, the environment and the relay's own configuration (secrets).
     */
    private static final Pattern SIMPLE_REACH = Pattern.compile(
            "\\$\\{\\s*(bean:|ref:|type:|camelContext|exchange\\b|env[:.]|sysenv|sys\\.|properties:|propertiesExist:)");
    /** Endpoint option values that create or look up objects. */
    private static final Pattern OBJECT_OPTION = Pattern.compile("#(class|type|bean|valueAs):");
    /** {{name}} / {{?name}} / {{name:default}} in a template's text. */
    private static final Pattern PARAMETER = Pattern.compile("\\{\\{(\\?)?([A-Za-z0-9_.-]+)(?::([^}]*))?}}");
    private static final Pattern RAW_PARAMETER = Pattern.compile("RAW\\(\\{\\{\\??([A-Za-z0-9_.-]+)}}\\)");
    /** Characters that would change an endpoint URI's structure when put in it outside RAW(). */
    private static final Pattern URI_STRUCTURE = Pattern.compile("[?&#=(){}$\\\\\\s\\p{Cntrl}]");
    private static final Pattern SPACE_LIST = Pattern.compile("[^?&#=(){}$\\\\\\p{Cntrl}]*");

    private final Set<String> schemes;
    private final Set<String> languages;
    private final Set<String> eips;

    RouteAllowList(RelayProperties.Routes settings) {
        schemes = union(SCHEMES, settings.allowedSchemes());
        languages = union(LANGUAGES, settings.allowedLanguages());
        eips = union(EIPS, settings.allowedEips());
    }

    private static Set<String> union(Set<String> builtIn, List<String> optIn) {
        Set<String> all = new TreeSet<>(builtIn);
        if (optIn != null) {
            optIn.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(all::add);
        }
        return Collections.unmodifiableSet(all);
    }

    /** The direct: endpoints a file's routes consume and send to, with the line of each send. */
    record Directs(Set<String> consumed, Map<String, Integer> sent) {
        Directs() {
            this(new LinkedHashSet<>(), new LinkedHashMap<>());
        }
    }

    // ---- pass 1: the plain YAML -------------------------------------------------------------

    /** Only route and templatedRoute entries, with known keys; read without Camel. */
    static void checkStructure(String name, String content) throws RouteFileException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        Iterable<Node> documents;
        List<Node> roots = new ArrayList<>();
        try {
            documents = new Yaml(options).composeAll(new StringReader(content));
            documents.forEach(roots::add);
        } catch (MarkedYAMLException e) {
            // Refused here rather than left to Camel's loader: what this reader cannot see, it cannot check.
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new RouteFileException(name + (mark != null ? ", line " + (mark.getLine() + 1) : "") + ": not valid "
                    + "YAML: " + e.getMessage().replaceAll("\\s+", " ").trim(), e);
        } catch (RuntimeException e) {
            throw new RouteFileException(name + ": not valid YAML: " + e.getMessage(), e);
        }
        if (roots.isEmpty()) {
            throw new RouteFileException(name + ": the file has no routes (empty, or saved half-way?); "
                    + "delete the file to remove its routes");
        }
        for (Node root : roots) {
            if (!(root instanceof SequenceNode entries)) {
                throw refused(name, root, "a route file is a list of route and templatedRoute entries");
            }
            for (Node entry : entries.getValue()) {
                if (!(entry instanceof MappingNode mapping) || mapping.getValue().size() != 1) {
                    throw refused(name, entry, "each entry is one route or templatedRoute");
                }
                NodeTuple tuple = mapping.getValue().get(0);
                String kind = scalar(tuple.getKeyNode());
                if ("beans".equals(kind)) {
                    throw refused(name, tuple.getKeyNode(), "beans are not allowed in a route file (Camel would "
                            + "create them while reading it); beans belong to the relay's Java code");
                }
                if (!ENTRIES.contains(kind)) {
                    throw refused(name, tuple.getKeyNode(), "'" + kind + "' is not allowed in a route file: only "
                            + "route and templatedRoute entries (route templates, REST, error handlers, route "
                            + "configurations and beans belong to the relay's Java code)");
                }
                if (!(tuple.getValueNode() instanceof MappingNode body)) {
                    throw refused(name, tuple.getValueNode(), kind + " needs its keys (id, from, ...)");
                }
                Set<String> allowed = kind.equals("route") ? ROUTE_KEYS : TEMPLATED_ROUTE_KEYS;
                for (NodeTuple option : body.getValue()) {
                    String key = scalar(option.getKeyNode());
                    if (!allowed.contains(key)) {
                        throw refused(name, option.getKeyNode(), "'" + key + "' is not allowed in a " + kind
                                + " of a route file" + ("beans".equals(key) ? " (Camel would create the beans)" : "")
                                + "; allowed: " + String.join(", ", new TreeSet<>(allowed)));
                    }
                }
            }
        }
    }

    private static String scalar(Node node) {
        return node instanceof ScalarNode scalar ? scalar.getValue() : String.valueOf(node.getNodeId());
    }

    private static RouteFileException refused(String name, Node node, String reason) {
        return new RouteFileException(name + ", line " + (node.getStartMark().getLine() + 1) + ": " + reason);
    }

    // ---- pass 2: the model ------------------------------------------------------------------

    /** Every EIP, endpoint and language of a plain route; records its direct: endpoints. */
    void checkRoute(String name, String content, RouteDefinition route, CamelContext candidate, Directs directs)
            throws RouteFileException {
        String from = route.getInput().getEndpointUri();
        String where = where(name, content, route.getInput(), from);
        String scheme = endpoint(where, from, candidate, false);
        if (scheme.equals("direct")) {
            directs.consumed().add(directName(resolve(where, from, candidate)));
        }
        walk(name, content, route.getOutputs(), candidate, directs, Collections.newSetFromMap(new IdentityHashMap<>()),
                null);
    }

    /**
     * What a template's check knows of its parameters: the value each stands for while its
     * endpoints are checked (its default, else its name), and those without a default, whose
     * value only an instance gives (an endpoint whose scheme is one is checked per instance).
     */
    private record InTemplate(Map<String, String> values, Set<String> open) {
    }

    private void walk(String name, String content, List<?> nodes, CamelContext candidate,
                      Directs directs, Set<Object> seen, InTemplate template) throws RouteFileException {
        for (Object item : nodes) {
            if (!(item instanceof NamedNode node)) {
                continue;
            }
            if (!seen.add(node)) {
                continue;
            }
            String eip = node.getShortName();
            String where = where(name, content, node, eip);
            if (!eips.contains(eip) && !(template != null && TEMPLATE_EIPS.contains(eip))) {
                throw new RouteFileException(where + ": the EIP '" + eip + "' is not allowed in a "
                        + (template != null ? "template" : "route file") + "; routing may use "
                        + String.join(", ", eips) + (template != null ? ", templates also setBody and bean "
                        + "(of " + String.join(", ", new TreeSet<>(TEMPLATE_BEANS)) + ")" : "")
                        + " (an operator can allow more by name: relay.routes.allowed-eips)");
            }
            if (node instanceof SetHeaderDefinition set && RelayHeaders.PROVIDER_OVERRIDE.equals(set.getName())
                    || node instanceof SetHeadersDefinition sets && sets.getHeaders().stream()
                    .anyMatch(header -> RelayHeaders.PROVIDER_OVERRIDE.equals(header.getName()))) {
                // Its value becomes an endpoint name (PROVIDER_OVERRIDE_URI): only accept's check may give it one.
                throw new RouteFileException(where + ": the header " + RelayHeaders.PROVIDER_OVERRIDE + " is "
                        + "the provider a submission named, checked at accept; a route file may not set it");
            }
            if (node instanceof BeanDefinition bean) {
                providerBean(where, bean.getRef(), bean.getBeanType() != null || bean.getBeanClass() != null);
            }
            if (node instanceof LoadBalanceDefinition balance
                    && balance.getLoadBalancerType() instanceof CustomLoadBalancerDefinition custom
                    && !LOAD_BALANCER_BEANS.contains(custom.getRef())) {
                throw new RouteFileException(where + ": a custom load balancer (a bean) is not allowed in a "
                        + "route file, except the relay's " + String.join(", ", LOAD_BALANCER_BEANS) + "; use "
                        + "failover, round robin, random, weighted, sticky or topic");
            }
            if (template != null && node instanceof SendDefinition<?> send) {
                templateEndpoint(where, send.getEndpointUri(), template, candidate, true);
            } else if (template != null && node instanceof ToDynamicDefinition dynamic) {
                templateEndpoint(where, dynamic.getUri(), template, candidate, true);
                simple(where, dynamic.getUri());
            } else if (node instanceof SendDefinition<?> send) {
                String uri = send.getEndpointUri();
                if (endpoint(where, uri, candidate, false).equals("direct")) {
                    directs.sent().putIfAbsent(directName(resolve(where, uri, candidate)), line(node));
                }
            } else if (node instanceof ToDynamicDefinition dynamic) {
                String uri = dynamic.getUri();
                String scheme = endpoint(where, uri, candidate, true);
                simple(where, uri);
                if (scheme.equals("direct") && !(eip.equals("toD") && uri.trim().equals(PROVIDER_OVERRIDE_URI))) {
                    String target = directName(resolve(where, uri, candidate));
                    if (target.contains("${")) {
                        // A computed name could reach the relay's own routes (direct:accept, direct:defer, ...).
                        throw new RouteFileException(where + ": a " + eip + " to direct: must name its endpoint "
                                + "(the one exception: " + PROVIDER_OVERRIDE_URI + "); choose between routes with "
                                + "choice");
                    }
                    directs.sent().putIfAbsent(target, line(node));
                }
            }
            if (node instanceof LogDefinition log) {
                simple(where, log.getMessage());
            }
            expressions(where, node, Collections.newSetFromMap(new IdentityHashMap<>()), template != null);
            if (node instanceof LoadBalanceDefinition balance && balance.getLoadBalancerType() != null) {
                expressions(where, balance.getLoadBalancerType(), Collections.newSetFromMap(new IdentityHashMap<>()),
                        template != null);
            }
            List<Object> children = children(node);
            walk(name, content, children, candidate, directs, seen, template);
        }
    }

    /**
     * The languages of every expression a definition holds (found by its getters, so that no EIP's
     * expression is missed: when, filter, setHeader, throttle, sticky load balancing, ...).
     */
    private void expressions(String where, Object definition, Set<Object> seen, boolean inTemplate)
            throws RouteFileException {
        if (definition == null || !seen.add(definition)) {
            return;
        }
        for (Method getter : definition.getClass().getMethods()) {
            Class<?> type = getter.getReturnType();
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getName().equals("getParent")
                    || !(ExpressionDefinition.class.isAssignableFrom(type)
                    || ExpressionSubElementDefinition.class.isAssignableFrom(type))) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(definition);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            ExpressionDefinition expression = value instanceof ExpressionSubElementDefinition sub
                    ? sub.getExpressionType() : (ExpressionDefinition) value;
            if (expression == null) {
                continue;
            }
            String language = expression.getLanguage();
            if (inTemplate && expression instanceof MethodCallExpression call) {
                providerBean(where, call.getRef(), call.getBeanType() != null || call.getBeanTypeName() != null
                        || call.getInstance() != null);
            } else if (language != null && !languages.contains(language)) {
                throw new RouteFileException(where + ": the expression language '" + language + "' is not allowed "
                        + "in a route file; routing may use " + String.join(", ", languages)
                        + " (an operator can allow more by name: relay.routes.allowed-languages)");
            }
            if ("simple".equals(language)) {
                simple(where, expression.getExpression());
            }
            if (expression != definition) {
                expressions(where, expression, seen, inTemplate);
            }
        }
    }

    private static void simple(String where, String text) throws RouteFileException {
        if (text != null) {
            Matcher reach = SIMPLE_REACH.matcher(text);
            if (reach.find()) {
                throw new RouteFileException(where + ": the simple function '${" + reach.group(1) + "' is not "
                        + "allowed in a route file (it reaches beyond the message: beans, the context, the "
                        + "environment or the relay's configuration)");
            }
        }
    }

    /** The endpoint's scheme, refused unless allowed; placeholders resolved first. */
    private String endpoint(String where, String uri, CamelContext candidate, boolean dynamic)
            throws RouteFileException {
        String resolved = resolve(where, uri, candidate);
        int colon = resolved.indexOf(':');
        String scheme = colon > 0 ? resolved.substring(0, colon) : resolved;
        if (dynamic && scheme.contains("${")) {
            throw new RouteFileException(where + ": the scheme of a toD / wireTap endpoint must be written out, "
                    + "not computed");
        }
        if (!schemes.contains(scheme)) {
            throw new RouteFileException(where + ": the endpoint scheme '" + scheme + "' is not allowed in a "
                    + "route file; routing may use " + String.join(", ", schemes) + " and the provider templates "
                    + "(an operator can allow more by name: relay.routes.allowed-schemes)");
        }
        objectOptions(where, resolved);
        return scheme;
    }

    private static void objectOptions(String where, String uri) throws RouteFileException {
        Matcher object = OBJECT_OPTION.matcher(uri);
        if (object.find()) {
            throw new RouteFileException(where + ": endpoint options that create or look up objects (#"
                    + object.group(1) + ":) are not allowed in a route file");
        }
    }

    private static String resolve(String where, String uri, CamelContext candidate) throws RouteFileException {
        if (uri == null || uri.isBlank()) {
            throw new RouteFileException(where + ": an endpoint without a URI");
        }
        try {
            return candidate.resolvePropertyPlaceholders(uri).trim();
        } catch (RuntimeException e) {
            throw new RouteFileException(where + ": " + RouteFiles.describe(e), e);
        }
    }

    // ---- an operator's templates ----------------------------------------------------------

    /**
     * Pass 1 for a template file, on the plain YAML: one Kamelet, with a parameter schema and a
     * template of known keys — in particular no {@code beans} (Camel would create them when the
     * template is used) and no {@code dependencies}.
     */
    static void checkTemplateStructure(String name, String content) throws RouteFileException {
        List<Node> roots = compose(name, content);
        if (roots.size() != 1 || !(roots.get(0) instanceof MappingNode kamelet)) {
            throw new RouteFileException(name + ": a template file is one Kamelet (apiVersion, kind: Kamelet, "
                    + "metadata.name, spec.definition, spec.template)");
        }
        Map<String, Node> top = keys(name, kamelet, KAMELET_KEYS, "a Kamelet");
        Node kind = top.get("kind");
        if (kind == null || !"Kamelet".equals(scalar(kind))) {
            throw refused(name, kind != null ? kind : kamelet, "a template file is a Kamelet: kind: Kamelet");
        }
        Map<String, Node> metadata = keys(name, mapping(name, top, "metadata", kamelet), METADATA_KEYS, "metadata");
        Node id = metadata.get("name");
        if (id == null || !TEMPLATE_ID.matcher(scalar(id)).matches()) {
            throw refused(name, id != null ? id : top.get("metadata"), "metadata.name is the template's id: "
                    + "a-z, 0-9 and -, as routeTemplateRef names it");
        }
        Map<String, Node> spec = keys(name, mapping(name, top, "spec", kamelet), SPEC_KEYS, "spec");
        Map<String, Node> definition = keys(name, mapping(name, spec, "definition", top.get("spec")),
                DEFINITION_KEYS, "spec.definition");
        Set<String> declared = new LinkedHashSet<>();
        if (definition.containsKey("properties")) {
            Map<String, Node> properties = keys(name, mapping(name, definition, "properties", null), null,
                    "spec.definition.properties");
            for (var property : properties.entrySet()) {
                Node key = ((MappingNode) definition.get("properties")).getValue().stream()
                        .filter(t -> scalar(t.getKeyNode()).equals(property.getKey())).findFirst().orElseThrow()
                        .getKeyNode();
                if (!PARAMETER_NAME.matcher(property.getKey()).matches()) {
                    throw refused(name, key, "'" + property.getKey() + "' is not a parameter name (A-Z, a-z, 0-9, "
                            + "_ . -)");
                }
                if (!(property.getValue() instanceof MappingNode schema)) {
                    throw refused(name, property.getValue(), "parameter " + property.getKey() + " needs its schema "
                            + "(title, description, type, default, format)");
                }
                keys(name, schema, PROPERTY_KEYS, "parameter " + property.getKey());
                declared.add(property.getKey());
            }
        }
        if (definition.get("required") instanceof SequenceNode required) {
            for (Node entry : required.getValue()) {
                if (!declared.contains(scalar(entry))) {
                    throw refused(name, entry, "required names '" + scalar(entry) + "', which "
                            + "spec.definition.properties does not declare");
                }
            }
        } else if (definition.containsKey("required")) {
            throw refused(name, definition.get("required"), "required is a list of parameter names");
        }
        Map<String, Node> template = keys(name, mapping(name, spec, "template", top.get("spec")), TEMPLATE_KEYS,
                "spec.template");
        if (!template.containsKey("from")) {
            throw refused(name, spec.get("template"), "spec.template needs its from (uri and steps)");
        }
    }

    /** A Kamelet's {@code spec.definition} (its parameters' JSON schema) as plain data, for the listing. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> schema(String name, String content) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(10);
        Object document = new Yaml(new SafeConstructor(options)).load(content);
        if (document instanceof Map<?, ?> kamelet && kamelet.get("spec") instanceof Map<?, ?> spec
                && spec.get("definition") instanceof Map<?, ?> definition) {
            return (Map<String, Object>) definition;
        }
        throw new IllegalArgumentException(name + ": no spec.definition");
    }

    /**
     * Pass 2 for a template, on the parsed model: its from, every EIP, endpoint and language as in
     * a route file, plus what a provider template needs (see the class comment). Its endpoints are
     * checked with each parameter's default (or its name); every instance's endpoints are checked
     * again with the instance's values when a route file uses it ({@link #checkInstance}).
     */
    void checkTemplate(String name, String content, RouteTemplateDefinition template, CamelContext candidate)
            throws RouteFileException {
        RouteDefinition route = template.getRoute();
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> open = new LinkedHashSet<>();
        template.getTemplateParameters().forEach(parameter -> {
            values.put(parameter.getName(), parameter.getDefaultValue() != null ? parameter.getDefaultValue()
                    : parameter.getName());
            if (parameter.getDefaultValue() == null) {
                open.add(parameter.getName());
            }
        });
        InTemplate scope = new InTemplate(values, open);
        String from = route.getInput().getEndpointUri();
        templateEndpoint(where(name, content, route.getInput(), from), from, scope, candidate, false);
        walk(name, content, route.getOutputs(), candidate, new Directs(),
                Collections.newSetFromMap(new IdentityHashMap<>()), scope);
    }

    /**
     * A template's endpoint: its scheme among the allowed ones (for sending, also the provider
     * templates' own) unless an instance gives it, and no options that create or look up objects.
     */
    private void templateEndpoint(String where, String uri, InTemplate template, CamelContext candidate,
                                  boolean sending) throws RouteFileException {
        if (uri == null || uri.isBlank()) {
            throw new RouteFileException(where + ": an endpoint without a URI");
        }
        String resolved = instantiate(where, uri, template.values(), candidate);
        objectOptions(where, resolved);
        Matcher leading = PARAMETER.matcher(uri.trim());
        if (leading.lookingAt() && template.open().contains(leading.group(2))) {
            return;                                  // the scheme is a parameter: checked per instance
        }
        int colon = resolved.indexOf(':');
        String scheme = colon > 0 ? resolved.substring(0, colon) : resolved;
        if (!schemes.contains(scheme) && !(sending && TEMPLATE_SCHEMES.contains(scheme))) {
            throw new RouteFileException(where + ": the endpoint scheme '" + scheme + "' is not allowed in a "
                    + "template; it may " + (sending ? "send to " + String.join(", ", new TreeSet<>(TEMPLATE_SCHEMES))
                    + " and " : "consume ") + String.join(", ", schemes) + " (an operator can allow more by name: "
                    + "relay.routes.allowed-schemes)");
        }
    }

    /** A bean call of a template: by name, and only one of the provider beans. */
    private static void providerBean(String where, String ref, boolean byType) throws RouteFileException {
        if (byType || ref == null || !TEMPLATE_BEANS.contains(ref)) {
            throw new RouteFileException(where + ": a template may call only the provider beans "
                    + String.join(", ", new TreeSet<>(TEMPLATE_BEANS)) + ", by name"
                    + (ref != null && !byType ? "; not '" + ref + "'" : " (no bean type: Camel would create it)"));
        }
    }

    private static List<Node> compose(String name, String content) throws RouteFileException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        List<Node> roots = new ArrayList<>();
        try {
            new Yaml(options).composeAll(new StringReader(content)).forEach(roots::add);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new RouteFileException(name + (mark != null ? ", line " + (mark.getLine() + 1) : "") + ": not valid "
                    + "YAML: " + e.getMessage().replaceAll("\\s+", " ").trim(), e);
        } catch (RuntimeException e) {
            throw new RouteFileException(name + ": not valid YAML: " + e.getMessage(), e);
        }
        return roots;
    }

    /** A mapping's entries by key, each key among {@code allowed} (null: any). */
    private static Map<String, Node> keys(String name, MappingNode mapping, Set<String> allowed, String what)
            throws RouteFileException {
        Map<String, Node> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            String key = scalar(tuple.getKeyNode());
            if (allowed != null && !allowed.contains(key)) {
                throw refused(name, tuple.getKeyNode(), "'" + key + "' is not allowed in " + what + " of a template "
                        + "file" + (key.equals("beans") ? " (Camel would create the beans)" : key.equals("dependencies")
                        ? " (the relay's dependencies are its build's)" : "") + "; allowed: "
                        + String.join(", ", new TreeSet<>(allowed)));
            }
            entries.put(key, tuple.getValueNode());
        }
        return entries;
    }

    private static MappingNode mapping(String name, Map<String, Node> entries, String key, Node parent)
            throws RouteFileException {
        Node node = entries.get(key);
        if (node instanceof MappingNode mapping) {
            return mapping;
        }
        Node at = node != null ? node : parent;
        if (at == null) {
            throw new RouteFileException(name + ": " + key + " is missing");
        }
        throw refused(name, at, node == null ? key + " is missing" : key + " needs its keys");
    }

    // ---- templated routes ------------------------------------------------------------------

    /**
     * A templated route's parameters: each one the template declares, and those the template puts
     * into an endpoint URI outside RAW(...) free of the characters that would add options or change
     * its structure. Returns the parameters with the template's defaults filled in.
     */
    static Map<String, String> checkParameters(String where, Function<String, String> whereOf, String routeId,
                                               RouteTemplateDefinition template, Map<String, String> given,
                                               CamelContext candidate) throws RouteFileException {
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> declared = new LinkedHashSet<>();
        template.getTemplateParameters().forEach(parameter -> {
            declared.add(parameter.getName());
            if (parameter.getDefaultValue() != null) {
                values.put(parameter.getName(), parameter.getDefaultValue());
            }
        });
        Set<String> bare = new LinkedHashSet<>();
        for (String uri : endpointUris(template.getRoute())) {
            String withoutRaw = RAW_PARAMETER.matcher(uri).replaceAll("");
            Matcher used = PARAMETER.matcher(withoutRaw);
            while (used.find()) {
                bare.add(used.group(2));
            }
        }
        for (var parameter : given.entrySet()) {
            if (!declared.contains(parameter.getKey())) {
                throw new RouteFileException(where + ": route " + routeId + ": the template '" + template.getId()
                        + "' has no parameter '" + parameter.getKey() + "' (it has " + String.join(", ", declared)
                        + ")");
            }
            String value;
            try {
                value = candidate.resolvePropertyPlaceholders(parameter.getValue());
            } catch (RuntimeException e) {
                throw new RouteFileException(where + ": route " + routeId + ", parameter '" + parameter.getKey()
                        + "': " + RouteFiles.describe(e), e);
            }
            boolean spaced = "sslTrust".equals(parameter.getKey());   // a space-separated host list
            if (bare.contains(parameter.getKey()) && value != null
                    && (spaced ? !SPACE_LIST.matcher(value).matches() : URI_STRUCTURE.matcher(value).find())) {
                throw new RouteFileException(whereOf.apply(parameter.getValue()) + ": route " + routeId + ", parameter '" + parameter.getKey()
                        + "': the template puts it into an endpoint URI, so it may not contain "
                        + "? & # = ( ) { } $ \\ or white space");
            }
            values.put(parameter.getKey(), parameter.getValue());
        }
        sameKindOfEndpoint(where, routeId, template, values, candidate);
        return values;
    }

    /** Schemes that are one kind of endpoint: a parameter may switch between them, not across. */
    private static final List<Set<String>> SCHEME_KINDS = List.of(Set.of("smtp", "smtps"), Set.of("http", "https"),
            Set.of("file"));

    /**
     * A parameter may choose between TLS and plain text, never the kind of endpoint: each endpoint
     * of an instance has a scheme of the kind the template's defaults give it (an smtp template's
     * {@code scheme: http} would turn a mail upstream into an HTTP call).
     */
    private static void sameKindOfEndpoint(String where, String routeId, RouteTemplateDefinition template,
                                           Map<String, String> values, CamelContext candidate) throws RouteFileException {
        // The defaults, and a neutral word for a parameter without one (host), so that the URI parses.
        Map<String, String> defaults = new LinkedHashMap<>();
        template.getTemplateParameters().forEach(parameter -> defaults.put(parameter.getName(),
                parameter.getDefaultValue() != null ? parameter.getDefaultValue() : "unset"));
        for (String uri : endpointUris(template.getRoute())) {
            String byDefault;
            try {
                byDefault = scheme(instantiate(where, uri, defaults, candidate));
            } catch (RouteFileException unresolved) {
                continue;   // a default that is itself a placeholder of the relay's: judged by the instance check
            }
            Set<String> kind = SCHEME_KINDS.stream().filter(k -> k.contains(byDefault)).findFirst().orElse(null);
            if (kind == null) {
                continue;
            }
            String given = scheme(instantiate(where, uri, values, candidate));
            if (!kind.contains(given)) {
                throw new RouteFileException(where + ": route " + routeId + ": the template '" + template.getId()
                        + "' sends to " + String.join(" or ", new TreeSet<>(kind)) + "; its parameters may not "
                        + "make that the scheme '" + given + "'");
            }
        }
    }

    private static String scheme(String uri) {
        int colon = uri.indexOf(':');
        return colon > 0 ? uri.substring(0, colon) : uri;
    }

    /**
     * The instantiated endpoints of a templated route: schemes the provider templates use or the
     * allow-list names, files only inside the outbox; records its direct: endpoints.
     */
    void checkInstance(String where, String routeId, RouteDefinition instance, Map<String, String> parameters,
                       CamelContext candidate, Path outbox, Directs directs) throws RouteFileException {
        String from = instantiate(where, instance.getInput().getEndpointUri(), parameters, candidate);
        if (from.startsWith("direct:")) {
            directs.consumed().add(directName(from));
        }
        for (String template : endpointUris(instance)) {
            String uri = instantiate(where, template, parameters, candidate);
            int colon = uri.indexOf(':');
            String scheme = colon > 0 ? uri.substring(0, colon) : uri;
            if (!TEMPLATE_SCHEMES.contains(scheme) && !schemes.contains(scheme)) {
                throw new RouteFileException(where + ": route " + routeId + " would send to the scheme '" + scheme
                        + "', which neither the provider templates nor the allow-list name");
            }
            objectOptions(where, uri);
            if (scheme.equals("file")) {
                String directory = uri.substring(colon + 1).replaceFirst("^//", "").replaceFirst("\\?.*$", "");
                Path target = Path.of(directory).toAbsolutePath().normalize();
                if (!target.startsWith(outbox.toAbsolutePath().normalize())) {
                    throw new RouteFileException(where + ": route " + routeId + " would write files to " + directory
                            + ", outside the outbox (relay.outbox.directory)");
                }
            }
        }
    }

    private static String instantiate(String where, String text, Map<String, String> parameters,
                                      CamelContext candidate) throws RouteFileException {
        // A default may name other parameters, as Camel resolves them ({{baseUrl.{{region}}}}):
        // substituted again until nothing local is left, a few rounds at most.
        String current = text;
        for (int round = 0; round < 4; round++) {
            String next = substitute(current, parameters);
            if (next.equals(current)) {
                break;
            }
            current = next;
        }
        return resolve(where, current, candidate);
    }

    private static String substitute(String text, Map<String, String> parameters) {
        Matcher placeholder = PARAMETER.matcher(text);
        StringBuilder local = new StringBuilder();
        while (placeholder.find()) {
            String name = placeholder.group(2);
            String replacement = parameters.containsKey(name) ? parameters.get(name)
                    : placeholder.group(1) != null ? "" : placeholder.group();
            placeholder.appendReplacement(local, Matcher.quoteReplacement(replacement));
        }
        placeholder.appendTail(local);
        return local.toString();
    }

    /** Every static and dynamic endpoint URI under a route (its input excluded). */
    private static List<String> endpointUris(RouteDefinition route) {
        List<String> uris = new ArrayList<>();
        if (route != null) {
            collect(route.getOutputs(), uris, Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        return uris;
    }

    private static void collect(List<?> nodes, List<String> uris, Set<Object> seen) {
        for (Object node : nodes) {
            if (node == null || !seen.add(node)) {
                continue;
            }
            if (node instanceof SendDefinition<?> send) {
                uris.add(send.getEndpointUri());
            } else if (node instanceof ToDynamicDefinition dynamic) {
                uris.add(dynamic.getUri());
            }
            List<Object> children = children(node);
            collect(children, uris, seen);
        }
    }

    /** The static direct: endpoints a (live) route sends to, placeholders resolved where they can be. */
    static Set<String> directSends(RouteDefinition route, CamelContext camel) {
        Set<String> sends = new LinkedHashSet<>();
        List<SendDefinition<?>> nodes = new ArrayList<>();
        collectSends(route.getOutputs(), nodes, Collections.newSetFromMap(new IdentityHashMap<>()));
        for (SendDefinition<?> node : nodes) {
            try {
                String uri = camel.resolvePropertyPlaceholders(node.getEndpointUri());
                if (uri.startsWith("direct:")) {
                    sends.add(directName(uri));
                }
            } catch (RuntimeException e) {
                // a template's local placeholder: not a route that sends to a file's routes
            }
        }
        return sends;
    }

    private static void collectSends(List<?> nodes, List<SendDefinition<?>> sends, Set<Object> seen) {
        for (Object node : nodes) {
            if (node == null || !seen.add(node)) {
                continue;
            }
            if (node instanceof SendDefinition<?> send) {
                sends.add(send);
            }
            List<Object> children = children(node);
            collectSends(children, sends, seen);
        }
    }

    /** A definition's outputs, with the clauses some EIPs keep apart from them. */
    private static List<Object> children(Object node) {
        List<Object> children = new ArrayList<>();
        if (node instanceof OutputNode output) {
            children.addAll(output.getOutputs());
        } else if (node instanceof ProcessorDefinition<?> processor) {
            children.addAll(processor.getOutputs());
        }
        if (node instanceof ChoiceDefinition choice) {
            children.addAll(choice.getWhenClauses());
            children.add(choice.getOtherwise());
        } else if (node instanceof TryDefinition attempt) {
            children.addAll(attempt.getCatchClauses());
            children.add(attempt.getFinallyClause());
        } else if (node instanceof CircuitBreakerDefinition breaker) {
            children.add(breaker.getOnFallback());
        }
        return children;
    }

    /** direct:name, direct://name and direct:name?options all name "name". */
    static String directName(String uri) {
        String name = uri.substring("direct:".length());
        if (name.startsWith("//")) {
            name = name.substring(2);
        }
        int query = name.indexOf('?');
        return query >= 0 ? name.substring(0, query) : name;
    }

    /** "file, line N" from the definition's own line, else from the first line holding the text. */
    static String where(String name, String content, Object definition, String text) {
        int line = definition instanceof LineNumberAware aware ? aware.getLineNumber() : -1;
        return line > 0 ? name + ", line " + line : RouteFiles.at(name, content, text);
    }

    private static int line(Object definition) {
        return definition instanceof LineNumberAware aware ? aware.getLineNumber() : -1;
    }
}
