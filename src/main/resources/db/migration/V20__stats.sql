-- Stats and usage (queuectl/: GET /api/v1/stats, /api/v1/usage, /api/v1/rate-limit) read a bounded
-- time window, never a table: events by the time they were written (all workspaces, for an admin
-- key; one workspace, for its own key), and messages by when they were accepted. Each call is a
-- range scan of one of these indexes over at most 31 days (queuectl/QueueStats.MAX_RANGE). Messages
-- by accept time are read through the listing indexes of V19 (queued_at, id) and (workspace_id,
-- queued_at, id): an index of its own would cost every status change of every message again.
create index if not exists events_created on events (created_at);
create index if not exists events_workspace_created on events (workspace_id, created_at);
-- The users of one workspace in the current window of its limit (usage): window_start is the
-- equality, the scope prefix a filter of that window's rows alone.
create index if not exists rate_windows_window on rate_windows (window_start, scope);
