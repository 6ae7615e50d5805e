-- The claim at depth (bench/claim-plan.sh): 1,000,000 due messages across 20 workspaces and the
-- four levels, ranked as store/ClaimRanks ranks them (each workspace x level a stream spread at its
-- level's rate from its due time less its head start), beside 100,000 not due yet (scheduled over
-- the next day) and 200,000 done (no rank). Then the claim's plan and its time.
\set ON_ERROR_STOP on
\timing off

-- Levels as relay.queue-priorities' defaults: head start (s) and rate (messages/s).
create temporary table levels (priority smallint, head_start int, rate float8);
insert into levels values (3, 600, 500), (2, 120, 100), (1, 30, 20), (0, 0, 5);

-- The due: workspace w00..w19, email type by i % 4 (transactional and system high, notification
-- normal, marketing low), due within the last hour.
insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                      status, attempts, next_attempt_at, queued_at, updated_at, priority, claim_rank)
select gen_random_uuid(), w, t, 'app@bench.test', '["r@customer.test"]', 's', '\x00'::bytea, 1,
       'QUEUED', 0, due, due, due, p,
       due - make_interval(secs => l.head_start)
           + make_interval(secs => (row_number() over (partition by w, p order by i)) / l.rate)
  from (select i,
               'w' || lpad((i % 20)::text, 2, '0') as w,
               (array['transactional', 'system', 'notification', 'marketing'])[1 + (i / 20) % 4] as t,
               (array[2, 2, 1, 0])[1 + (i / 20) % 4]::smallint as p,
               now() - interval '1 hour' + make_interval(secs => i * 3600.0 / 1000000) as due
          from generate_series(0, 999999) as i) m
  join levels l on l.priority = m.p;

-- Not due yet: scheduled sends over the next day, ranked at their due time less the head start.
insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                      status, attempts, next_attempt_at, queued_at, updated_at, priority, claim_rank)
select gen_random_uuid(), 'w' || lpad((i % 20)::text, 2, '0'), 'marketing', 'app@bench.test', '["r@customer.test"]',
       's', '\x00'::bytea, 1, 'QUEUED', 0, now() + make_interval(secs => i * 86400.0 / 100000), now(), now(), 0,
       now() + make_interval(secs => i * 86400.0 / 100000)
  from generate_series(1, 100000) as i;

-- Done: no due time, no rank.
insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                      status, attempts, next_attempt_at, queued_at, updated_at, sent_at, priority, claim_rank)
select gen_random_uuid(), 'w' || lpad((i % 20)::text, 2, '0'), 'transactional', 'app@bench.test',
       '["r@customer.test"]', 's', '\x00'::bytea, 1, 'SENT', 1, null, now() - interval '2 hours', now(),
       now(), 2, null
  from generate_series(1, 200000) as i;

vacuum analyze messages;

select status, count(*) as rows, count(claim_rank) as ranked, count(*) filter (where next_attempt_at <= now()) as due
  from messages group by status order by status;

-- The claim as QueueStore.claim sends it (a batch of 100; the workers ask for at most
-- min(batch-size, 2 x threads - busy)), in a transaction rolled back so that every run finds the same rows.
\echo 'The claim of a batch of 100 (EXPLAIN ANALYZE, BUFFERS):'
begin;
-- store/QueueStore.CLAIM, its two parameters written in (psql cannot read the constant).
explain (analyze, buffers, costs)
select id, workspace_id, email_type, from_addr, recipients, raw_mime, attempts,
       coalesce(requeued_at, case when send_at > queued_at then send_at else queued_at end)
           as queued_at, status, provider_override, priority, claim_rank
  from messages m
 where claim_rank is not null
   and next_attempt_at <= now()
   and coalesce((select 1 from queue_pauses p
                  where p.workspace_id in (m.workspace_id, '*')
                    and p.email_type in (m.email_type, '*')
                  fetch first 1 rows only), 0) <> 1
 order by claim_rank
 limit 100
   for update skip locked;
rollback;

-- The same with the pause test written as `not exists` (the claim before V22): with queue_pauses
-- never analyzed, PostgreSQL's estimate of that anti-join is about one row, and it sorts every due row.
\echo 'The claim with not exists and queue_pauses never analyzed (EXPLAIN ANALYZE):'
begin;
explain (analyze, costs)
select id from messages m
 where claim_rank is not null
   and next_attempt_at <= now()
   and not exists (select 1 from queue_pauses p
                    where p.workspace_id in (m.workspace_id, '*')
                      and p.email_type in (m.email_type, '*'))
 order by claim_rank
 limit 100
   for update skip locked;
rollback;

-- The time of the claim, five times (each in its own transaction, rolled back), then the order of
-- what it takes: the first 100 by level and workspace.
\timing on
\echo 'Five claims of 100 (psql timing, round trip included):'
begin; select count(*) from (select id from messages m where claim_rank is not null and next_attempt_at <= now()
  and coalesce((select 1 from queue_pauses p where p.workspace_id in (m.workspace_id, '*')
  and p.email_type in (m.email_type, '*') fetch first 1 rows only), 0) <> 1 order by claim_rank limit 100 for update skip locked) c; rollback;
begin; select count(*) from (select id from messages m where claim_rank is not null and next_attempt_at <= now()
  and coalesce((select 1 from queue_pauses p where p.workspace_id in (m.workspace_id, '*')
  and p.email_type in (m.email_type, '*') fetch first 1 rows only), 0) <> 1 order by claim_rank limit 100 for update skip locked) c; rollback;
begin; select count(*) from (select id from messages m where claim_rank is not null and next_attempt_at <= now()
  and coalesce((select 1 from queue_pauses p where p.workspace_id in (m.workspace_id, '*')
  and p.email_type in (m.email_type, '*') fetch first 1 rows only), 0) <> 1 order by claim_rank limit 100 for update skip locked) c; rollback;
begin; select count(*) from (select id from messages m where claim_rank is not null and next_attempt_at <= now()
  and coalesce((select 1 from queue_pauses p where p.workspace_id in (m.workspace_id, '*')
  and p.email_type in (m.email_type, '*') fetch first 1 rows only), 0) <> 1 order by claim_rank limit 100 for update skip locked) c; rollback;
begin; select count(*) from (select id from messages m where claim_rank is not null and next_attempt_at <= now()
  and coalesce((select 1 from queue_pauses p where p.workspace_id in (m.workspace_id, '*')
  and p.email_type in (m.email_type, '*') fetch first 1 rows only), 0) <> 1 order by claim_rank limit 100 for update skip locked) c; rollback;
\timing off

\echo 'What the first claim of 100 takes, by level and email type:'
select priority, email_type, count(*) as claimed, count(distinct workspace_id) as workspaces
  from (select priority, email_type, workspace_id from messages m
         where claim_rank is not null and next_attempt_at <= now()
         order by claim_rank limit 100) c
 group by priority, email_type order by priority desc, email_type;

-- The claim's worst case: nothing due, 100,000 ranked but not due yet (scheduled sends). The walk
-- in rank order cannot stop at the clock, as messages_due's range does; this shows what it costs
-- (the planner may take messages_due and sort instead, with nothing due).
\echo 'Nothing due but 100,000 scheduled within a day (EXPLAIN ANALYZE):'
begin;
update messages set next_attempt_at = null, claim_rank = null, status = 'SENT' where next_attempt_at <= now();
explain (analyze, buffers, costs)
select id from messages m
 where claim_rank is not null
   and next_attempt_at <= now()
   and coalesce((select 1 from queue_pauses p
                  where p.workspace_id in (m.workspace_id, '*')
                    and p.email_type in (m.email_type, '*')
                  fetch first 1 rows only), 0) <> 1
 order by claim_rank
 limit 100
   for update skip locked;
rollback;
