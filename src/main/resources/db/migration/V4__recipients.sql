-- The suppression list: recipients of a workspace that are not ACTIVE (BOUNCED, UNSUBSCRIBED,
-- COMPLAINED) are dropped from the envelope when a message is accepted.
create table recipients (
    workspace_id   varchar(64)  not null,
    email          varchar(254) not null,   -- lower case
    status         varchar(16)  not null,
    bounce_count   integer      not null default 0,
    last_bounce_at timestamp with time zone,
    reason         text,
    updated_at     timestamp with time zone not null,
    primary key (workspace_id, email)
);
