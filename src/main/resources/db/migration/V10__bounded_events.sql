-- Webhook delivery holds no database lock while it posts: a workspace's batch is claimed by
-- taking this row's lease (a short update), posted outside any transaction, and its outcome
-- recorded only by the lease's owner. One row per workspace that ever had events to deliver;
-- owner and lease_until are null while nobody delivers.
create table webhook_leases (
    workspace_id varchar(64)  primary key,
    owner        varchar(64),                 -- a random id of one claim (unique per claim, not per instance)
    lease_until  timestamp with time zone     -- after this another worker may claim the workspace again
);

-- Open and click events collapsed per link and relay.tracking.repeat-window: engagement_key names
-- the link (a hash of its kind, message, recipient and URL), repeats counts the requests after the
-- first one within the window, which wrote no row of their own.
alter table events add column engagement_key varchar(64);
alter table events add column repeats integer not null default 0;

-- Kafka event stream: an event the producer or broker refused for good (too large, say) is
-- parked: streamed_at is set (the stream moves on) and stream_error says why it was not produced.
alter table events add column stream_error text;
