-- On PostgreSQL this version makes four indexes of `messages` partial (db/vendor/postgresql).
-- H2 has no partial indexes: its full indexes (V1, V5, V19, V22) stay as they are.
select 1;
