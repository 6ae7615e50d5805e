-- Scheduled send (REST send_at, SMTP X-Relay-Send-At / X-MC-SendAt): the time the client asked a
-- message to be sent at; null to send at once. A row scheduled ahead is written QUEUED with
-- next_attempt_at = send_at, so the claim passes it by until then (no state of its own: cancel,
-- pauses and the claim treat it as any QUEUED row). This column is what the views show, what
-- GET /api/v1/messages?scheduled=true filters on (inside the range of an index of
-- V19__message_listing.sql: status QUEUED), and where a scheduled message's retry age starts
-- (relay.retry.max-age counts from send_at, not from the accept days earlier).
alter table messages add column send_at timestamp with time zone;
