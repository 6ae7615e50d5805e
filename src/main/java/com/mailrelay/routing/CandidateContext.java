package com.mailrelay.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.camel.CamelContext;
import org.apache.camel.Component;
import org.apache.camel.Endpoint;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.StartupSummaryLevel;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.TemplatedRouteDefinition;
import org.apache.camel.spi.BeanRepository;
import org.apache.camel.spi.DataFormat;
import org.apache.camel.spi.Language;
import org.apache.camel.spi.PropertiesSource;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;

/**
 * A CamelContext of its own, never started, in which a route file is parsed and its routes built
 * to see whether they would load — so that nothing of a candidate (no route, no endpoint, no
 * component) ever appears in the live context, whether the file turns out valid or not.
 *
 * <p>It knows what a live route would: the live context's route templates, its property
 * placeholders (read through, never copied) and its beans by name (so that templates find
 * {@code providerFailures}). Components, endpoints, languages and data formats of the live
 * context are not shared: the candidate makes its own, so that building it cannot touch theirs.
 */
final class CandidateContext implements AutoCloseable {

    private final DefaultCamelContext context;

    CandidateContext(CamelContext live) {
        context = new DefaultCamelContext(new LiveBeans(live));
        context.getCamelContextExtension().setName("route-validation");
        context.setStartupSummaryLevel(StartupSummaryLevel.Off);
        context.getPropertiesComponent().addPropertiesSource(new LiveProperties(live));
        context.build();
        try {
            context.addRouteTemplateDefinitions(((ModelCamelContext) live).getRouteTemplateDefinitions());
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot give the candidate context the relay's route templates", e);
        }
    }

    ModelCamelContext camel() {
        return context;
    }

    /** The routes and templated routes of a file, as definitions (nothing is built yet). */
    static RouteFiles.Parsed parse(CamelContext camel, String location, String content) throws Exception {
        Resource resource = ResourceHelper.fromString(location, content);
        List<RouteDefinition> routes = new ArrayList<>();
        List<TemplatedRouteDefinition> templated = new ArrayList<>();
        Collection<RoutesBuilder> builders = PluginHelper.getRoutesLoader(camel).findRoutesBuilders(List.of(resource));
        boolean other = false;
        for (RoutesBuilder builder : builders) {
            RouteBuilder routeBuilder = (RouteBuilder) builder;
            routes.addAll(routeBuilder.configureRoutes(camel).getRoutes());
            templated.addAll(routeBuilder.getTemplatedRouteCollection().getTemplatedRoutes());
            other |= !routeBuilder.getRouteTemplateCollection().getRouteTemplates().isEmpty()
                    || !routeBuilder.getRestCollection().getRests().isEmpty();
        }
        return new RouteFiles.Parsed(routes, templated, other);
    }

    /** The route templates of a template file (a Kamelet: Camel's YAML DSL reads it as one), not added anywhere. */
    static List<RouteTemplateDefinition> templates(CamelContext camel, String location, String content)
            throws Exception {
        Resource resource = ResourceHelper.fromString(location, content);
        List<RouteTemplateDefinition> templates = new ArrayList<>();
        for (RoutesBuilder builder : PluginHelper.getRoutesLoader(camel).findRoutesBuilders(List.of(resource))) {
            RouteBuilder routeBuilder = (RouteBuilder) builder;
            routeBuilder.configureRoutes(camel);
            templates.addAll(routeBuilder.getRouteTemplateCollection().getRouteTemplates());
            if (!routeBuilder.getRouteCollection().getRoutes().isEmpty()
                    || !routeBuilder.getRestCollection().getRests().isEmpty()) {
                throw new IllegalArgumentException("a template file holds a template only, no routes or REST");
            }
        }
        return templates;
    }

    /** Builds the file's routes here (stopped: this context never starts), failing as a load would. */
    void build(List<RouteDefinition> routes) throws Exception {
        context.startRouteDefinitions(routes);
    }

    /** Makes the templated route's definition here, so that its instantiated endpoints can be checked. */
    RouteDefinition instantiate(TemplatedRouteDefinition templated) throws Exception {
        context.addRouteFromTemplatedRoute(templated);
        return context.getRouteDefinition(templated.getRouteId());
    }

    @Override
    public void close() {
        try {
            context.close();
        } catch (Exception e) {
            // nothing of it ran: there is nothing to clean up that matters
        }
    }

    /** The live context's beans by name, except Camel's own building blocks. */
    private record LiveBeans(CamelContext live) implements BeanRepository {

        @Override
        public Object lookupByName(String name) {
            return shareable(live.getRegistry().lookupByName(name));
        }

        @Override
        public <T> T lookupByNameAndType(String name, Class<T> type) {
            return type.cast(shareable(live.getRegistry().lookupByNameAndType(name, type)));
        }

        @Override
        public <T> Map<String, T> findByTypeWithName(Class<T> type) {
            return live.getRegistry().findByTypeWithName(type).entrySet().stream()
                    .filter(e -> shareable(e.getValue()) != null)
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        }

        @Override
        public <T> Set<T> findByType(Class<T> type) {
            return live.getRegistry().findByType(type).stream().filter(bean -> shareable(bean) != null)
                    .collect(Collectors.toSet());
        }

        private static Object shareable(Object bean) {
            return bean instanceof Component || bean instanceof Endpoint || bean instanceof Language
                    || bean instanceof DataFormat || bean instanceof CamelContext ? null : bean;
        }
    }

    /** Placeholders resolve as in the live context (Spring's environment, env:, sys:). */
    private record LiveProperties(CamelContext live) implements PropertiesSource {

        @Override
        public String getName() {
            return "live-context";
        }

        @Override
        public String getProperty(String name) {
            return live.getPropertiesComponent().resolveProperty(name).orElse(null);
        }
    }
}
