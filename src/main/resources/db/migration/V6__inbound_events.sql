-- Inbound provider events (Mailgun, SendGrid event webhooks), written in the same transaction
-- as the events and suppressions a request causes, so a request that failed leaves no trace.

-- Mailgun signature tokens seen within the timestamp window: a token used again is a replay.
-- Rows older than the window are deleted (their timestamps are refused anyway). Unique across
-- workspaces: a Mailgun signing key is account-wide, so workspaces sharing one would otherwise
-- accept a request captured for another.
create table inbound_tokens (
    workspace_id varchar(64)  not null,   -- the workspace that first presented it
    provider     varchar(16)  not null,
    token        varchar(128) not null,
    signed_at    timestamp with time zone not null,
    primary key (provider, token)
);

create index inbound_tokens_age on inbound_tokens (signed_at);

-- Provider events already taken (Mailgun event-data id and timestamp, SendGrid sg_event_id):
-- providers retry, and a retried event must not be recorded twice.
create table inbound_events (
    workspace_id varchar(64)  not null,
    provider     varchar(16)  not null,
    event_key    varchar(255) not null,
    received_at  timestamp with time zone not null,
    primary key (workspace_id, provider, event_key)
);

create index inbound_events_age on inbound_events (received_at);
