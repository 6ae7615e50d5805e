-- Personalised submissions (tracking, unsubscribe links, variables) are stored as one message
-- row per recipient; the rows of one request share its batch_id (the id of its first row).
alter table messages add column batch_id uuid;
create index messages_batch on messages (batch_id);

-- Names of a recipient, for {{FIRST_NAME}} and {{LAST_NAME}} (request variables win over them).
alter table recipients add column first_name varchar(255);
alter table recipients add column last_name varchar(255);
