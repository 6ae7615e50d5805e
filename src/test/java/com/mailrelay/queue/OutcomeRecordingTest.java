package com.mailrelay.queue;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.MessageIds;
import com.mailrelay.message.Submission;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No endless resend: an outcome is recorded even when its events cannot be, and a message whose
 * outcome was never recorded is not retried past max-attempts or max-age. On the shared test
 * context (max-attempts 5, max-age 24 h).
 */
class OutcomeRecordingTest extends RelayTestSupport {

    @Autowired
    CamelContext camel;

    @Autowired
    MeterRegistry meters;

    @Test
    void aSentMessageWhoseEventsCannotBeWrittenIsRecordedSentAndNotResent() {
        Submission submission = RelayInstances.submission("events", "app@events.test", "nell@customer.test",
                "events refused");
        UUID id = submission.id();
        // The database refuses this message's send event (a constraint only it violates): the
        // outcome's bookkeeping fails after the upstream took the message.
        String constraint = "test_refuse_" + id.toString().replace("-", "").substring(20);
        jdbc.execute("alter table events add constraint " + constraint
                + " check (message_id <> '" + id + "' or type <> 'send')");
        double failuresBefore = bookkeepingFailures();
        try {
            AcceptPath.of(camel).accept(submission);
            awaitStatus(id.toString(), "SENT");
        } finally {
            jdbc.execute("alter table events drop constraint " + constraint);
        }

        Map<String, Object> row = row(id.toString());
        assertThat(row.get("next_attempt_at")).as("never due again").isNull();
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("provider_id")).isEqualTo("default");
        assertThat(eventTypes(id.toString())).as("the events were left out").isEmpty();
        assertThat(bookkeepingFailures()).as("and the failure counted").isGreaterThan(failuresBefore);
        assertThat(Upstreams.received(Upstreams.greenMail("default"), id.toString())).hasSize(1);
    }

    @Test
    void aMessageLeftSendingWithItsAttemptsUsedUpIsDeadLetteredAtClaim() {
        // What an outcome that was never recorded leaves: SENDING, lease run out, attempt 5 of 5 made.
        String exhausted = insertLeftBehind("attempts used up", 5, Instant.now().minusSeconds(60));
        // And one queued longer than max-age (24 h) on its first retry.
        String tooOld = insertLeftBehind("too old", 1, Instant.now().minus(Duration.ofHours(25)));

        awaitStatus(exhausted, "FAILED");
        awaitStatus(tooOld, "FAILED");

        assertThat((String) row(exhausted).get("last_error")).contains("retries exhausted")
                .contains("5 of 5 attempts").contains("never recorded");
        assertThat((String) row(tooOld).get("last_error")).contains("max-age");
        for (String id : new String[] {exhausted, tooOld}) {
            assertThat(row(id).get("next_attempt_at")).isNull();
            assertThat(row(id).get("lease_owner")).as("not claimed again").isEqualTo("crashed-instance");
            assertThat(eventTypes(id)).containsExactly("soft_bounce");
            assertThat(Upstreams.received(Upstreams.greenMail("default"), id)).as("not sent again").isEmpty();
        }
    }

    private double bookkeepingFailures() {
        Counter counter = meters.find("relay.outcome.bookkeeping.failures").tag("part", "send").counter();
        return counter == null ? 0 : counter.count();
    }

    /** A row as a worker that never recorded its outcome leaves it: SENDING, lease expired. */
    private String insertLeftBehind(String subject, int attempts, Instant queuedAt) {
        UUID id = MessageIds.next();
        String mime = "From: app@crash.test\r\nTo: olga@customer.test\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + id + "@crash.test>\r\n\r\nnever recorded\r\n";
        Timestamp queued = Timestamp.from(queuedAt);
        jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime,
                                      size_bytes, status, attempts, next_attempt_at, claim_rank, lease_owner, queued_at,
                                      updated_at)
                values (?, 'crash', 'transactional', 'app@crash.test', '["olga@customer.test"]', ?, ?, ?,
                        'SENDING', ?, ?, ?, 'crashed-instance', ?, ?)""",
                id, subject, mime.getBytes(StandardCharsets.US_ASCII), mime.length(), attempts,
                Timestamp.from(Instant.now().minusSeconds(1)), Timestamp.from(Instant.now().minusSeconds(1)), queued,
                queued);
        return id.toString();
    }
}
