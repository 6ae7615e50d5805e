package com.mailrelay.api;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.springframework.stereotype.Component;

/**
 * The first step of every workspace API route: the {@code Authorization: Bearer <key>} header
 * selects the workspace, left in the relayWorkspace header (401 through rest-errors otherwise).
 */
@Component("apiKeyAuthentication")
public class ApiKeyAuthentication implements Processor {

    private final Workspaces workspaces;

    public ApiKeyAuthentication(Workspaces workspaces) {
        this.workspaces = workspaces;
    }

    @Override
    public void process(Exchange exchange) {
        String workspace = workspaces.authenticate(exchange.getMessage().getHeader("Authorization", String.class));
        exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, workspace);
    }
}
