-- Webhook delivery state of each event (the outbox of V1): PENDING until a receiver took it
-- (DELIVERED) or it was older than relay.webhooks.max-age when it last failed (FAILED).
-- Events of workspaces without a webhook URL stay PENDING and are delivered once one is set.
alter table events add column delivered_at timestamp with time zone;
alter table events add column last_error text;
create index events_webhook_queue on events (workspace_id, delivery_state, id);
