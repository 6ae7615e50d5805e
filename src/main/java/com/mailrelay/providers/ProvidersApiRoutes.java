package com.mailrelay.providers;

import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.AdminKeys;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

import static org.apache.camel.builder.endpoint.StaticEndpointBuilders.timer;

/**
 * The providers' management API (admin key): {@code GET /api/v1/providers} lists every provider
 * instance with its health, {@code GET /api/v1/providers/{id}} shows one, and
 * {@code POST /api/v1/providers/{id}/test} probes it now and, given {@code {"to": "..."}}, sends
 * one test message through that provider only ({@code direct:provider-<id>}, not a chain).
 * With relay.providers.probe.interval set, {@code provider-probes} probes every instance that
 * often. The beans compute (ProviderViews, ProviderProbes, ProviderTests); these routes decide.
 */
@Component
public class ProvidersApiRoutes extends RouteBuilder {

    private final RelayProperties.ProbeSchedule probeSettings;
    private final AdminKeys adminKeys;

    public ProvidersApiRoutes(RelayProperties properties, AdminKeys adminKeys) {
        this.probeSettings = properties.providers().probe();
        this.adminKeys = adminKeys;
    }

    private void authenticate(Exchange exchange) {
        adminKeys.authenticate(exchange.getMessage().getHeader("Authorization", String.class));
    }

    @Override
    public void configure() {
        rest("/api/v1/providers")
                .get().id("rest-list-providers").produces("application/json")
                    .description("Every running provider instance with its health: breaker, deliveries, quotas, "
                            + "last success, error and probe (admin key)")
                    .outType(ProviderSchemas.ProviderList.class)
                    .to("direct:providers-list")
                .get("/{id}").id("rest-get-provider").produces("application/json")
                    .description("One provider instance and its health (admin key)")
                    .param().name("id").type(RestParamType.path).required(true).dataType("string")
                        .description("the provider instance's id").endParam()
                    .outType(ProviderSchemas.Provider.class)
                    .responseMessage().code(404).message("no provider instance of this id is running").endResponseMessage()
                    .to("direct:providers-get")
                // The body is optional ({} or {"to": ...}): a POST without one (and so without a
                // Content-Type, which a declared consumes would refuse) runs the probe alone;
                // providerTests refuses a body that is not a JSON object (400).
                .post("/{id}/test").id("rest-test-provider").produces("application/json")
                    .description("Probes a provider now and, given a recipient, sends it one test message through "
                            + "that provider only (admin key)")
                    .param().name("id").type(RestParamType.path).required(true).dataType("string")
                        .description("the provider instance's id").endParam()
                    .type(ProviderSchemas.TestRequest.class)
                    .param().name("body").type(RestParamType.body).required(false)
                        .description("{} or none: probe only; {\"to\": ...}: a test message too").endParam()
                    .outType(ProviderSchemas.TestResult.class)
                    .responseMessage().code(400).message("the body is not a JSON object, or an address is invalid")
                        .endResponseMessage()
                    .responseMessage().code(404).message("no provider instance of this id is running").endResponseMessage()
                    .responseMessage().code(502).message("the probe or the test message failed at the provider")
                        .responseModel(ProviderSchemas.TestResult.class).endResponseMessage()
                    .to("direct:providers-test");

        from("direct:providers-list").routeId("providers-list").routeConfigurationId(RestErrorConfiguration.ID)
                .process(this::authenticate)
                .bean("providerViews", "all")
                .bean("restResponses", "listing(*, providers)");

        from("direct:providers-get").routeId("providers-get").routeConfigurationId(RestErrorConfiguration.ID)
                .process(this::authenticate)
                .bean("providerViews", "one(${header.id})")
                .bean("restResponses", "reply(*, 200)");

        from("direct:providers-test").routeId("providers-test").routeConfigurationId(RestErrorConfiguration.ID)
                .process(this::authenticate)
                .bean("providerTests", "request")
                .setProperty(ProviderTests.PROBE, method("providerProbes", "run(${exchangeProperty."
                        + ProviderTests.PROVIDER + "})"))
                // A recipient given: one message through this provider's own route, whatever the probe said
                // (the send's error tells more than the probe's).
                .filter(exchangeProperty(ProviderTests.TO).isNotNull())
                    .bean("providerTests", "prepare")
                    .doTry()
                        .toD("direct:provider-${exchangeProperty." + ProviderTests.PROVIDER + "}").id("provider-test-send")
                        .bean("providerTests", "sent")
                    .doCatch(Exception.class)
                        .bean("providerTests", "failed")
                    .end()
                .end()
                .bean("providerTests", "answer")
                .bean("restResponses", "reply(*, ${exchangeProperty." + ProviderTests.STATUS + "})");

        if (!probeSettings.interval().isZero() && !probeSettings.interval().isNegative()) {
            long every = probeSettings.interval().toMillis();
            from(timer("provider-probes").period(every).delay(every)).routeId("provider-probes")
                    .split(method("providerInstances", "ids"))
                        .bean("providerProbes", "runScheduled")
                    .end();
        }
    }
}
