-- Fixed-window message counters of the per-workspace and per-user rate limits. Every relay
-- instance on this database counts in the same rows, so a limit holds across instances.
create table rate_windows (
    scope        varchar(400) not null,   -- 'workspace:<id>' or 'user:<workspace>:<user id>'
    window_start timestamp with time zone not null,
    messages     integer      not null,
    primary key (scope, window_start)
);
