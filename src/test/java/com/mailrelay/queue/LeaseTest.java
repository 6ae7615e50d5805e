package com.mailrelay.queue;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.EmailType;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.Submission;
import com.mailrelay.store.QueueStore;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Leases that hold, and attempts that end. A context of its own with a 3 s lease (renewed every
 * second), a 4 s attempt deadline, two workers and retries an hour apart (so that a deferred
 * message stays DEFERRED while the test looks at it).
 */
@TestPropertySource(properties = {
        "relay.worker.lease=3s",
        "relay.worker.threads=2",
        "relay.worker.attempt-deadline=4s",
        "relay.retry.initial-backoff=1h",
        "relay.retry.max-backoff=1h"})
class LeaseTest extends RelayTestSupport {

    @Autowired
    CamelContext camel;

    @Autowired
    QueueStore store;

    @Test
    void aSendSlowerThanTheLeaseIsNotSentTwice() {
        // The upstream answers DATA after 8 s: more than two lease periods.
        String recipient = "slow-lease@customer.test";
        String id = AcceptPath.of(camel).accept(RelayInstances.submission("slow", "app@slow.test", recipient, "slow send")).id()
                .toString();

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(status(id)).isEqualTo("SENT"));
        Duration took = Duration.between(timestamp(id, "queued_at"), timestamp(id, "sent_at"));
        assertThat(took).as("the send really outlasted the lease").isGreaterThan(Duration.ofSeconds(6));

        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).as("no second claim while the first worker was sending").isEqualTo(1);
        assertThat(row.get("lease_owner")).isEqualTo(store.instanceId());
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(Upstreams.scripted().deliveredTo(recipient)).hasSize(1);
        assertThat(Upstreams.scripted().tries(recipient)).as("RCPT TO seen once: one attempt").isEqualTo(1);
    }

    @Test
    void anUpstreamThatStopsReadingMidDataFreesTheWorkerWithinTheDeadline() {
        int stallsBefore = Upstreams.stalled().stalls();
        // 3 MB: far more than the stalled server's small TCP window takes.
        String id = AcceptPath.of(camel).accept(large("stalled", "jam@customer.test", 3 * 1024 * 1024)).id().toString();

        Instant started = Instant.now();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(status(id)).isEqualTo("DEFERRED"));
        Duration took = Duration.between(started, Instant.now());
        assertThat(Upstreams.stalled().stalls()).as("the upstream did stop reading mid-DATA")
                .isGreaterThan(stallsBefore);
        // Write timeout 2 s; the attempt deadline (4 s) plus a margin bounds it whatever fires first.
        assertThat(took).isLessThan(Duration.ofSeconds(4 + 3));
        String reason = (String) row(id).get("last_error");
        assertThat(reason).as("a timeout reason").containsAnyOf("timed out", "timeout");
        assertThat(eventTypes(id)).containsExactly("deferral");

        // The worker is free: other mail goes out.
        String next = submit("acme", message("app@acme.test", "after-jam@customer.test", "after the jam"));
        awaitStatus(next, "SENT");
    }

    @Test
    void aCallPastTheAttemptDeadlineEndsAsTransient() {
        // scripted with a 5 s socket timeout would fail on its own only after the 8 s DATA wait's
        // read timeout (5 s); here the deadline is what must end the call: provider "scripted" has
        // the context's default deadline, 4 s, and its reply to DATA for slow*@ takes 8 s.
        String recipient = "slow-deadline@customer.test";
        String id = AcceptPath.of(camel).accept(RelayInstances.submission("retry", "app@retry.test", recipient, "deadline"))
                .id().toString();
        Instant started = Instant.now();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(status(id)).isEqualTo("DEFERRED"));
        assertThat(Duration.between(started, Instant.now())).isLessThan(Duration.ofSeconds(4 + 3));
        assertThat((String) row(id).get("last_error")).contains("timeout").contains("attempt deadline of 4000 ms");
        assertThat(eventTypes(id)).containsExactly("deferral");
    }

    private Instant timestamp(String id, String column) {
        return jdbc.queryForObject("select " + column + " from messages where id = ?", Timestamp.class,
                UUID.fromString(id)).toInstant();
    }

    /** A message of about {@code bytes} bytes of text, for the given workspace's route. */
    private static Submission large(String workspace, String recipient, int bytes) {
        UUID id = MessageIds.next();
        StringBuilder body = new StringBuilder(bytes + 200);
        String line = "x".repeat(76) + "\r\n";
        while (body.length() < bytes) {
            body.append(line);
        }
        String mime = "From: app@" + workspace + ".test\r\nTo: " + recipient + "\r\nSubject: large\r\nMessage-ID: <"
                + id + "@" + workspace + ".test>\r\n\r\n" + body;
        return new Submission(id, workspace, EmailType.TRANSACTIONAL, "app@" + workspace + ".test", List.of(recipient),
                "large", mime.getBytes(), List.of(), Map.of(), null, null, null, null, MergeData.NONE);
    }
}
