-- The provider a submission named (REST "provider", SMTP X-Relay-Provider) for a workspace with
-- provider-override: the dispatch route sends the message to direct:provider-<id> only. Null (nearly
-- every row): the routes choose. Checked at accept against the provider ids (a-z, 0-9, -; 63 at most)
-- and the running provider routes. Numbered 13 because 10 is taken (V10__bounded_events) and Flyway
-- refuses a version below the newest applied one on an existing database.
alter table messages add column provider_override varchar(63);
