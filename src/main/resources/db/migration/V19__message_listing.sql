-- The management reads and operator actions on messages (messages/): GET /api/v1/messages and
-- /api/v1/dead-letters page by (queued_at, id), a key that never changes once a row is written, so a
-- cursor of the last (queued_at, id) seen returns every row once, in order, while mail arrives.
-- One index per way of asking, each ending in (queued_at, id) so that a page is one ordered index
-- range read of limit + 1 rows, never a sort of the matches. Every index costs each insert and
-- each status change (no update of this table is HOT: next_attempt_at changes with every
-- transition), so only the filters an operator looks for stuck mail with get one; recipient and
-- tag are matched inside the range these give (see store/MessageQueries).
create index messages_listing on messages (queued_at, id);                          -- admin: every workspace
create index messages_workspace_listing on messages (workspace_id, queued_at, id);  -- a workspace's mail
create index messages_status_listing on messages (status, queued_at, id);          -- stuck mail, dead letters
create index messages_workspace_status_listing on messages (workspace_id, status, queued_at, id);
create index messages_campaign_listing on messages (campaign_id, queued_at, id);

-- A dead letter (FAILED) an operator discarded: it stays FAILED (it did fail; stats, metrics and
-- retention count it so) but leaves the dead-letter list and can no longer be replayed.
alter table messages add column discarded_at timestamp with time zone;
-- When an operator last sent a dead letter back to the queue: the retry budget (relay.retry.max-age)
-- counts from here instead of queued_at, so that a replayed message older than max-age is tried
-- again rather than dead-lettered at its next claim.
alter table messages add column requeued_at timestamp with time zone;
