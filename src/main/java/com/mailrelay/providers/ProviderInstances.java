package com.mailrelay.providers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.mailrelay.routing.ProviderTemplate;
import com.mailrelay.routing.TemplateFiles;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.model.Model;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The provider instances running now, read from Camel itself: a route made from a template keeps
 * the parameters it was made with on its RouteDefinition ({@code getTemplateParameters()}, the
 * defaults it took in {@code getTemplateDefaultParameters()}) and, through the converter
 * registered here, its template's id as a route property ({@value #TEMPLATE_PROPERTY}); so no list
 * of our own can go stale when routes/ is reloaded. Which templates are provider
 * types, and which of their parameters are secrets, is their Kamelet schema (routing/TemplateFiles).
 */
@Component
public class ProviderInstances {

    private static final Logger log = LoggerFactory.getLogger(ProviderInstances.class);
    /** The route property naming the template a route was made from. */
    static final String TEMPLATE_PROPERTY = "relayTemplate";

    private final ModelCamelContext camel;
    private final TemplateFiles templates;

    public ProviderInstances(CamelContext camel, TemplateFiles templates) {
        this.camel = (ModelCamelContext) camel;
        this.templates = templates;
        // Camel keeps a templated route's parameters but not which template it came from (its
        // "template" route property is only true): the one converter of every template into its
        // route (Camel's own, then this property) records it. Registered before any route file loads.
        camel.getCamelContextExtension().getContextPlugin(Model.class).addRouteTemplateDefinitionConverter("*",
                (template, parameters) -> RouteTemplateDefinition.Converter.DEFAULT_CONVERTER
                        .apply(template, parameters).routeProperty(TEMPLATE_PROPERTY, template.getId()));
    }

    /** Every running provider instance, by id. */
    public List<ProviderInstance> all() {
        Map<String, ProviderTemplate> types = new LinkedHashMap<>();
        templates.templates().forEach(template -> types.put(template.id(), template));
        List<ProviderInstance> instances = new ArrayList<>();
        for (RouteDefinition definition : camel.getRouteDefinitions()) {
            if (!definition.isCreatedFromTemplate() || camel.getRoute(definition.getRouteId()) == null) {
                continue;
            }
            ProviderTemplate type = types.get(templateId(definition));
            if (type != null) {
                instances.add(instance(definition, type));
            }
        }
        instances.sort(Comparator.comparing(ProviderInstance::id));
        return instances;
    }

    public Optional<ProviderInstance> find(String id) {
        return all().stream().filter(instance -> instance.id().equals(id)).findFirst();
    }

    /** The ids of the running instances (the periodic probe splits over them). */
    public List<String> ids() {
        return all().stream().map(ProviderInstance::id).toList();
    }

    /** The template a route was made from: the route property our converter puts on it. */
    private String templateId(RouteDefinition definition) {
        Route route = camel.getRoute(definition.getRouteId());
        Object id = route == null ? null : route.getProperties().get(TEMPLATE_PROPERTY);
        return id == null ? null : String.valueOf(id);
    }

    private ProviderInstance instance(RouteDefinition definition, ProviderTemplate type) {
        Map<String, Object> given = definition.getTemplateParameters() == null ? Map.of()
                : definition.getTemplateParameters();
        Map<String, String> parameters = new LinkedHashMap<>();
        Set<String> secrets = new LinkedHashSet<>();
        for (ProviderTemplate.Parameter parameter : type.parameters()) {
            if (parameter.secret()) {
                secrets.add(parameter.name());
            }
            Object value = given.get(parameter.name());
            if (value == null && definition.getTemplateDefaultParameters() != null) {
                value = definition.getTemplateDefaultParameters().get(parameter.name());
            }
            if (value == null) {
                value = parameter.defaultValue();
            }
            parameters.put(parameter.name(), value == null ? null : resolve(definition.getRouteId(), parameter.name(),
                    String.valueOf(value)));
        }
        String id = parameters.getOrDefault("providerId", definition.getRouteId().replaceFirst("^provider-", ""));
        return new ProviderInstance(id, definition.getRouteId(), type.id(), parameters, Set.copyOf(secrets));
    }

    /** A value as the route uses it: {{placeholders}} resolved (a value that cannot be is shown as written). */
    private String resolve(String routeId, String name, String value) {
        if (!value.contains("{{")) {
            return value;
        }
        try {
            return camel.resolvePropertyPlaceholders(value);
        } catch (RuntimeException e) {
            log.debug("parameter {} of route {} cannot be resolved: {}", name, routeId, e.getMessage());
            return value;
        }
    }
}
