-- Retention (retention/Retention): the raw MIME of a finished message is dropped after
-- relay.retention.raw-mime (null from then on: the row, its events and history stay), and the row
-- itself is deleted after relay.retention.messages, each window counted per workspace.
alter table messages alter column raw_mime drop not null;

-- A message's final time is its updated_at while its status is final (SENT, FAILED, REJECTED,
-- CANCELLED): every transition sets updated_at, and a final row changes no more. So no column of its
-- own (the outcome writes stay as they are): one index finds, per workspace and final status, the
-- rows finished before a cutoff, oldest first, and serves the lookup of the workspaces that have
-- messages (its leading column).
create index messages_retention on messages (workspace_id, status, updated_at);
