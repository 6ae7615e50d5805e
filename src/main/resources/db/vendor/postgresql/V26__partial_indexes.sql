-- Every transition of a message (claimed, sent, deferred, failed) changes indexed columns, so no
-- update of `messages` is HOT: each writes a new entry into every index whose predicate the new
-- row version meets. These four indexes only ever serve rows whose column is set, so they hold
-- only those rows:
--   messages_due, messages_claim   queued, deferred and sending mail (next_attempt_at and
--                                  claim_rank are null once a message is done), so the final
--                                  update of a sent or failed message writes neither, and the
--                                  claim's index stays the size of the queue, not of the history;
--   messages_batch                 rows stored one per recipient (batch_id null otherwise);
--   messages_campaign_listing      mail of a campaign.
-- A plain message thus writes 25 index entries over its insert and two updates instead of 33
-- (bench/RESULTS.md). Each query on them names the column with a strict operator (=, <=) or
-- `is not null`, which the planner needs to use a partial index, bound parameters included.
-- PostgreSQL only (db/vendor/{vendor}, spring.flyway.locations): H2 has no partial indexes and
-- keeps the full ones.
drop index messages_due;
create index messages_due on messages (next_attempt_at) where next_attempt_at is not null;
drop index messages_claim;
create index messages_claim on messages (claim_rank, next_attempt_at) where claim_rank is not null;
drop index messages_batch;
create index messages_batch on messages (batch_id) where batch_id is not null;
drop index messages_campaign_listing;
create index messages_campaign_listing on messages (campaign_id, queued_at, id) where campaign_id is not null;
