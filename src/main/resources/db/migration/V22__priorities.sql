-- Priority and fairness of the claim (store/ClaimRanks). Runs unchanged on PostgreSQL and H2.
--
-- priority    the message's level: 3 critical, 2 high, 1 normal, 0 low
-- claim_rank  the order in which due messages are claimed: set exactly while next_attempt_at is
--             set (null once the message is done), near next_attempt_at less its level's head
--             start, and spaced after the previous message of its workspace and level, so that
--             one workspace's backlog is spread out while another's new mail ranks near now.
alter table messages add column priority smallint not null default 1;
alter table messages add column claim_rank timestamp with time zone;

-- Rows queued before: in the order they had (their due time).
update messages set claim_rank = next_attempt_at where next_attempt_at is not null;

-- The claim walks this in rank order, reading the due time from the index itself; it stops at the
-- first null rank (done mail), which it never needs.
create index messages_claim on messages (claim_rank, next_attempt_at);
