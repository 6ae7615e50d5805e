-- When each event was produced to the Kafka event stream (relay.events.kafka.enabled).
alter table events add column streamed_at timestamp with time zone;
create index events_unstreamed on events (streamed_at, id);
