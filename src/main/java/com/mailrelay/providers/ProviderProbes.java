package com.mailrelay.providers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.ProviderFailures;
import com.mailrelay.provider.ProviderProbe;
import com.mailrelay.provider.ProviderQuotaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Runs the probe of a provider instance's type (provider/ProviderProbe, one bean per type) with
 * the instance's parameters, and keeps the last result of each instance for the providers API and
 * the health indicator. A probe never sends mail; its failure is reported and logged, never
 * thrown at the caller.
 */
@Component("providerProbes")
public class ProviderProbes {

    private static final Logger log = LoggerFactory.getLogger(ProviderProbes.class);

    private final ProviderInstances instances;
    private final Map<String, ProviderProbe> byType;
    private final Clock clock;
    private final Map<String, ProbeResult> last = new ConcurrentHashMap<>();

    public ProviderProbes(ProviderInstances instances, List<ProviderProbe> probes, Clock clock) {
        this.instances = instances;
        this.byType = probes.stream().collect(Collectors.toUnmodifiableMap(ProviderProbe::type, Function.identity(),
                (a, b) -> {
                    throw new IllegalStateException("two probes for provider type " + a.type() + ": "
                            + a.getClass().getName() + " and " + b.getClass().getName());
                }));
        this.clock = clock;
    }

    /** Probes the instance now (404 if none of that id runs). */
    public ProbeResult run(String providerId) {
        ProviderInstance instance = instances.find(providerId)
                .orElseThrow(() -> new ProviderNotFoundException(providerId));
        return run(instance);
    }

    /** The periodic probe's step: one instance, which may have gone since the list was read. */
    public void runScheduled(String providerId) {
        instances.find(providerId).ifPresent(this::run);
    }

    ProbeResult run(ProviderInstance instance) {
        ProviderProbe probe = byType.get(instance.type());
        Instant start = clock.instant();
        ProbeResult result;
        if (probe == null) {
            result = new ProbeResult(start, ProbeResult.NONE, "no probe for provider type " + instance.type(), null,
                    null, 0);
        } else {
            try {
                String reply = probe.probe(instance.parameters());
                result = new ProbeResult(start, ProbeResult.OK, reply, null, null, millisSince(start));
                log.debug("probe of provider {} passed: {}", instance.id(), reply);
            } catch (RuntimeException e) {
                DeliveryException failure = ProviderFailures.classify(instance.id(), e);
                result = new ProbeResult(start, ProbeResult.FAILED, failure.reply(), kind(failure),
                        failure.code() == 0 ? null : failure.code(), millisSince(start));
                log.warn("probe of provider {} ({}) failed, {}: {}", instance.id(), instance.type(), kind(failure),
                        failure.reply());
            }
        }
        last.put(instance.id(), result);
        return result;
    }

    public Optional<ProbeResult> last(String providerId) {
        return Optional.ofNullable(last.get(providerId));
    }

    /** How a failure counts, in the words the API uses. */
    static String kind(DeliveryException failure) {
        if (failure instanceof ProviderConfigurationException) {
            return "configuration";
        }
        if (failure instanceof ProviderQuotaException) {
            return "quota";
        }
        if (failure instanceof PermanentDeliveryException) {
            return "permanent";
        }
        return "transient";
    }

    private long millisSince(Instant start) {
        return Duration.between(start, clock.instant()).toMillis();
    }
}
