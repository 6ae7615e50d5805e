package com.mailrelay.providers;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.annotations.media.Schema;

/** The bodies of the providers API as the OpenAPI document shows them ({@link ProviderViews}, {@link ProviderTests}). */
final class ProviderSchemas {

    private ProviderSchemas() {
    }

    @Schema(name = "ProviderList")
    record ProviderList(List<Provider> providers) {
    }

    @Schema(name = "Provider", description = "a running provider instance and its health")
    record Provider(String id, String type, String routeId,
                    @Schema(description = "its template parameters, secrets masked") Map<String, String> parameters,
                    Breaker breaker,
                    @Schema(description = "deliveries through it by outcome (sent, deferred, failed)") Map<String, Object> deliveries,
                    @Schema(description = "its quotas and their use now") Map<String, Object> quotas,
                    ProviderActivity.Outcome lastSuccess, ProviderActivity.Outcome lastError, ProbeResult lastProbe) {
    }

    @Schema(name = "ProviderBreaker")
    record Breaker(@Schema(description = "CLOSED, OPEN or HALF_OPEN; absent before the first call") String state,
                   List<Transition> transitions) {
    }

    @Schema(name = "ProviderBreakerTransition")
    record Transition(Instant at, String from, String to) {
    }

    @Schema(name = "ProviderTestRequest", description = "{} probes only; with to, a test message is sent too")
    record TestRequest(@Schema(description = "the test message's recipient") String to,
                       @Schema(description = "its sender (default postmaster@localhost)") String from) {
    }

    @Schema(name = "ProviderTestResult")
    record TestResult(String provider, ProbeResult probe,
                      @Schema(description = "the test message's outcome, when one was sent") Map<String, Object> send) {
    }
}
