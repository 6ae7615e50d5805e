package com.mailrelay.workspace;

import java.util.Optional;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.Priority;
import org.springframework.stereotype.Component;

/**
 * A message's priority level from its workspace's settings (relay.workspaces.&lt;id&gt;.priorities):
 * the level it asked for, checked against the workspace's bound at accept by both ingresses, or
 * its email type's level.
 */
@Component
public class PriorityLevels {

    private final Workspaces workspaces;

    public PriorityLevels(Workspaces workspaces) {
        this.workspaces = workspaces;
    }

    /** Why a message of {@code workspaceId} may not ask for {@code requested}; empty if it may. */
    public Optional<String> refusal(String workspaceId, Priority requested) {
        Priority bound = settings(workspaceId).bound();
        if (requested.level() > bound.level()) {
            return Optional.of("is above this workspace's highest priority " + bound.id()
                    + " (its priorities.max setting)");
        }
        return Optional.empty();
    }

    /** The level a message is stored with: {@code requested} (already checked), else its type's. */
    public int level(String workspaceId, EmailType type, Integer requested) {
        return requested != null ? requested : settings(workspaceId).of(type).level();
    }

    private RelayProperties.WorkspacePriorities settings(String workspaceId) {
        return workspaces.find(workspaceId).map(RelayProperties.Workspace::priorities)
                .orElse(new RelayProperties.WorkspacePriorities(null, null));
    }
}
