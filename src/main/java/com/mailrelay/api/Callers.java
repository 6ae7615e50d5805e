package com.mailrelay.api;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.workspace.AdminKeys;
import com.mailrelay.workspace.UnauthorizedException;
import com.mailrelay.workspace.Workspaces;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.springframework.stereotype.Component;

/**
 * The credential steps of the management API, one at the top of each route:
 * <ul>
 *   <li>{@code .bean("callers", "admin")}: an admin key, or 401 (a workspace key gets 403);</li>
 *   <li>{@code .bean("callers", "anyKey")}: an admin key or a workspace key; a workspace key also
 *       sets the relayWorkspace header, as {@link ApiKeyAuthentication} does;</li>
 * </ul>
 * Both leave the {@link Caller} in the exchange property {@link Caller#PROPERTY}. Then
 * {@code .bean("callers", "scope(*, ${header.workspace})")} turns a requested workspace (a path or
 * query parameter) into the one the caller may see: its own for a workspace key (403 for another),
 * the requested one, or null for every workspace, for an admin key. Its result is the body, or put
 * it in a header with {@code setHeader(..., method("callers", "scope(*, ${header.workspace})"))}.
 */
@Component("callers")
public class Callers {

    private final AdminKeys adminKeys;
    private final Workspaces workspaces;

    public Callers(AdminKeys adminKeys, Workspaces workspaces) {
        this.adminKeys = adminKeys;
        this.workspaces = workspaces;
    }

    public void admin(Exchange exchange) {
        String authorization = authorization(exchange);
        if (adminKeys.matches(authorization)) {
            exchange.setProperty(Caller.PROPERTY, new Caller(null, null, remoteAddress(exchange)));
            return;
        }
        // A valid workspace key is known but not enough: 403, so that the caller knows why.
        workspaces.authenticate(authorization);
        throw new ForeignWorkspaceException("this needs an admin key; a workspace key may not do it");
    }

    public void anyKey(Exchange exchange) {
        String authorization = authorization(exchange);
        if (adminKeys.matches(authorization)) {
            exchange.getMessage().removeHeader(RelayHeaders.WORKSPACE);
            exchange.setProperty(Caller.PROPERTY, new Caller(null, null, remoteAddress(exchange)));
            return;
        }
        // A key made through the API has a name: the audit log then shows "workspace:acme/ci".
        Workspaces.ApiKey key = workspaces.apiKey(authorization);
        exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, key.workspace());
        exchange.setProperty(Caller.PROPERTY, new Caller(key.workspace(), key.name(), remoteAddress(exchange)));
    }

    /**
     * The workspace a request may see: a workspace key's own (the requested one must be it, or
     * absent), an admin key's requested one, or null (every workspace) when an admin names none.
     */
    public String scope(Exchange exchange, String requested) {
        Caller caller = caller(exchange);
        String wanted = requested == null || requested.isBlank() ? null : requested.trim();
        if (caller.admin()) {
            return wanted;
        }
        if (wanted != null && !wanted.equals(caller.workspace())) {
            throw new ForeignWorkspaceException("this API key belongs to another workspace; it sees only its own"
                    + " (an admin key sees any)");
        }
        return caller.workspace();
    }

    /** The caller an earlier step identified. */
    public static Caller caller(Exchange exchange) {
        Caller caller = exchange.getProperty(Caller.PROPERTY, Caller.class);
        if (caller == null) {
            throw new UnauthorizedException("no credential was checked for this request");
        }
        return caller;
    }

    private static String authorization(Exchange exchange) {
        return exchange.getMessage().getHeader("Authorization", String.class);
    }

    private static String remoteAddress(Exchange exchange) {
        if (exchange.getIn() instanceof PlatformHttpMessage http) {
            HttpServletRequest request = http.getRequest();
            return request == null ? null : request.getRemoteAddr();
        }
        return null;
    }
}
