package com.mailrelay.providers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.provider.ProviderBreakers;
import com.mailrelay.ratelimit.ProviderQuotas;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * A provider instance as {@code GET /api/v1/providers} shows it: its type and parameters (secrets
 * masked), its circuit breaker's state and last transitions, its delivery counts (the
 * relay.deliveries meter of this instance since it started: sent, deferred and failed by this
 * provider), its last success and last error, and its last probe.
 *
 * <p>And its quota usage: for each quota the instance has (quotaPerSecond...), the sends counted
 * in the window open now by every instance on the database (ratelimit/ProviderQuotas).
 */
@Component("providerViews")
public class ProviderViews {

    private final ProviderInstances instances;
    private final ProviderBreakers breakers;
    private final ProviderActivity activity;
    private final ProviderProbes probes;
    private final MeterRegistry meters;
    private final ProviderQuotas quotas;

    public ProviderViews(ProviderInstances instances, ProviderBreakers breakers, ProviderActivity activity,
                         ProviderProbes probes, MeterRegistry meters, ProviderQuotas quotas) {
        this.quotas = quotas;
        this.instances = instances;
        this.breakers = breakers;
        this.activity = activity;
        this.probes = probes;
        this.meters = meters;
    }

    public List<Map<String, Object>> all() {
        return instances.all().stream().map(this::view).toList();
    }

    /** One instance's view (404 if none of that id runs). */
    public Map<String, Object> one(String id) {
        return view(instances.find(id).orElseThrow(() -> new ProviderNotFoundException(id)));
    }

    Map<String, Object> view(ProviderInstance instance) {
        String id = instance.id();
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", id);
        view.put("type", instance.type());
        view.put("route_id", instance.routeId());
        view.put("parameters", instance.maskedParameters());
        Map<String, Object> breaker = new LinkedHashMap<>();
        breaker.put("state", breakers.state(id).orElse(null));
        breaker.put("transitions", breakers.transitions(id));
        view.put("breaker", breaker);
        Map<String, Object> deliveries = new LinkedHashMap<>();
        for (String outcome : List.of("sent", "deferred", "failed")) {
            deliveries.put(outcome, deliveries(id, outcome));
        }
        view.put("deliveries", deliveries);
        Map<String, String> parameters = instance.parameters();
        view.put("quotas", quotas.usage(id, quota(parameters, "quotaPerSecond"), quota(parameters, "quotaPerMinute"),
                quota(parameters, "quotaPerHour"), quota(parameters, "quotaPerDay")));
        view.put("last_success", activity.lastSuccess(id).orElse(null));
        view.put("last_error", activity.lastError(id).orElse(null));
        view.put("last_probe", probes.last(id).orElse(null));
        return view;
    }

    /** A quota parameter of the instance; absent or unreadable (a template without quotas) is none. */
    private static int quota(Map<String, String> parameters, String name) {
        try {
            return Integer.parseInt(parameters.getOrDefault(name, "0").trim());
        } catch (NumberFormatException unreadable) {
            return 0;
        }
    }

    /** relay_deliveries_total{provider, outcome}, summed over workspaces and types. */
    private long deliveries(String providerId, String outcome) {
        return (long) meters.find("relay.deliveries").tag("provider", providerId).tag("outcome", outcome)
                .counters().stream().mapToDouble(Counter::count).sum();
    }
}
