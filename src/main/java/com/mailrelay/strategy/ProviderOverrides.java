package com.mailrelay.strategy;

import java.util.Optional;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ProviderIds;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.springframework.stereotype.Component;

/**
 * Whether a submission may name its provider (REST {@code provider}, SMTP {@code X-Relay-Provider}):
 * only for a workspace with {@code provider-override: true}, and only a provider that runs now —
 * the route {@code provider-<id>} consuming {@code direct:provider-<id>}. Checked at accept, so that
 * a typo is a 400 (or 550) to the client rather than a message that waits for a provider that never
 * comes; the dispatch route then sends the message there without choosing
 * ({@code toD: direct:provider-${header.relayProviderOverride}}, which the route allow-list admits
 * in exactly that spelling because the id was checked here).
 *
 * <p>A provider removed from the routes after the message was accepted: the send finds no consumer,
 * which the delivery route treats as a transient failure; the message waits, as for a chain whose
 * providers are all down, until its retries run out.
 */
@Component
public class ProviderOverrides {

    private final Workspaces workspaces;
    private final CamelContext camel;

    public ProviderOverrides(Workspaces workspaces, CamelContext camel) {
        this.workspaces = workspaces;
        this.camel = camel;
    }

    /** Why {@code providerId} may not be chosen by a submission of {@code workspaceId}; empty if it may. */
    public Optional<String> refusal(String workspaceId, String providerId) {
        if (!workspaces.find(workspaceId).map(RelayProperties.Workspace::providerOverride).orElse(false)) {
            return Optional.of("this workspace may not choose its provider (its provider-override setting is off)");
        }
        if (!ProviderIds.valid(providerId)) {
            return Optional.of("is not a provider id (1 to 63 of a-z, 0-9 and -)");
        }
        String routeId = "provider-" + providerId;
        Route route = camel.getRoute(routeId);
        ServiceStatus status = camel.getRouteController().getRouteStatus(routeId);
        if (route == null || status == null || !status.isStarted() || !consumes(route, routeId)) {
            return Optional.of("names no running provider: there is no route " + routeId + " from direct:"
                    + routeId);
        }
        return Optional.empty();
    }

    private static boolean consumes(Route route, String name) {
        String uri = route.getEndpoint().getEndpointUri();
        return uri.equals("direct://" + name) || uri.equals("direct:" + name);
    }
}
