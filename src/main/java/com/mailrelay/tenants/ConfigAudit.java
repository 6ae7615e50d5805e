package com.mailrelay.tenants;

import com.mailrelay.api.Caller;
import com.mailrelay.audit.AuditLog;
import com.mailrelay.workspace.Workspaces;
import org.springframework.stereotype.Component;

/**
 * Records in the audit log what writing relay.workspaces of application.yml into the database
 * changed at this start (as {@link Caller#RELAY}): a workspace, key or user that appeared, changed
 * or went. An unchanged configuration records nothing, so restarts do not fill the log.
 */
@Component
public class ConfigAudit {

    public ConfigAudit(Workspaces workspaces, AuditLog audit) {
        workspaces.startChanges().forEach(change ->
                audit.record(Caller.RELAY, change.action(), change.workspace(), change.target(), change.change()));
    }
}
