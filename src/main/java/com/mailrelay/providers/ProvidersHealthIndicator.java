package com.mailrelay.providers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.provider.ProviderBreakers;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code providers} component of /actuator/health: a provider is down while its circuit
 * breaker is open or its last probe failed. The component stays UP while any provider is up —
 * the relay still takes mail and a failover chain still delivers it — and the providers that are
 * down are named in its details (shown with the admin key only, as every component's). It is
 * DOWN only when every provider is down: then no mail leaves. Readiness
 * (/actuator/health/readiness) does not include it, so that a load balancer keeps sending mail to
 * a relay that queues it while its upstreams are away.
 */
@Component
public class ProvidersHealthIndicator implements HealthIndicator {

    private final ProviderInstances instances;
    private final ProviderBreakers breakers;
    private final ProviderProbes probes;

    public ProvidersHealthIndicator(ProviderInstances instances, ProviderBreakers breakers, ProviderProbes probes) {
        this.instances = instances;
        this.breakers = breakers;
        this.probes = probes;
    }

    @Override
    public Health health() {
        Map<String, Object> providers = new LinkedHashMap<>();
        List<String> down = new ArrayList<>();
        List<ProviderInstance> all = instances.all();
        for (ProviderInstance instance : all) {
            String breaker = breakers.state(instance.id()).orElse(null);
            ProbeResult probe = probes.last(instance.id()).orElse(null);
            boolean open = breaker != null && breaker.contains("OPEN") && !breaker.equals("HALF_OPEN");
            boolean probeFailed = probe != null && probe.failed();
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("status", open || probeFailed ? "DOWN" : "UP");
            detail.put("type", instance.type());
            detail.put("breaker", breaker);
            if (probe != null) {
                detail.put("probe", probe.status() + (probe.failed() ? ": " + probe.reply() : ""));
                detail.put("probed_at", probe.at().toString());
            }
            providers.put(instance.id(), detail);
            if (open || probeFailed) {
                down.add(instance.id());
            }
        }
        Health.Builder health = !all.isEmpty() && down.size() == all.size() ? Health.down() : Health.up();
        return health.withDetail("down", down).withDetail("providers", providers).build();
    }
}
