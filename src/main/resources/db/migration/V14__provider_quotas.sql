-- Fixed-window send counters of the provider quotas (ratelimit/ProviderQuotas). Every relay
-- instance on this database counts in the same rows, so a provider's quota holds across instances.
-- Per provider and window (size and epoch-aligned start) there is one row for the provider's total
-- (workspace_id '') and one per workspace that took or was refused a send in it: those rows are
-- what makes a workspace "active", and their weight is what its share of the quota is computed from.
create table provider_quota_windows (
    provider_id    varchar(128) not null,
    window_seconds integer      not null,   -- 1, 60, 3600 or 86400
    window_start   timestamp with time zone not null,
    workspace_id   varchar(128) not null,   -- '' for the provider's total
    weight         integer      not null,   -- the workspace's weight (quotaWeights); 0 on the total
    sends          integer      not null,
    primary key (provider_id, window_seconds, window_start, workspace_id)
);
