package com.mailrelay.providers;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One provider instance: a running route made from a provider template ({@code templatedRoute},
 * {@code routeTemplateRef: <type>}), with the parameters it runs with — its own values over the
 * template's defaults, placeholders resolved.
 *
 * @param secrets the parameters its template marks {@code format: password}
 */
public record ProviderInstance(String id, String routeId, String type, Map<String, String> parameters,
                               Set<String> secrets) {

    /** Shown in place of a secret's value. */
    public static final String MASK = "********";

    /** The parameters as the API shows them: a secret that is set shows as {@value #MASK}, never its value. */
    public Map<String, String> maskedParameters() {
        Map<String, String> masked = new LinkedHashMap<>();
        parameters.forEach((name, value) -> masked.put(name,
                secrets.contains(name) && value != null && !value.isEmpty() ? MASK : value));
        return masked;
    }

    /** The route a test message is sent to: this instance only, not a chain. */
    public String endpoint() {
        return "direct:provider-" + id;
    }
}
