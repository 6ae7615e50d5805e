package com.mailrelay.flow;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.mailrelay.message.MessageIds;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker that dies while SENDING leaves its rows leased. The rows below are exactly what such a
 * crash leaves behind (status SENDING, attempts already counted, lease_owner a dead instance); the
 * running relay must deliver each once its lease has expired — and not a moment before, since a
 * live lease belongs to a worker that may still be sending.
 */
class CrashRecoveryTest extends RelayTestSupport {

    @Test
    void messagesLeftSendingAreDeliveredExactlyOnceAfterTheirLeaseExpires() {
        Instant now = Instant.now();
        List<String> expired = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            expired.add(insertLeftBehind("expired " + i, now.minusSeconds(1)));
        }
        List<String> live = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            live.add(insertLeftBehind("live " + i, now.plusSeconds(6)));
        }

        for (String id : expired) {
            awaitStatus(id, "SENT");
        }
        // The expired ones went out while the live leases were still held: those were left alone.
        for (String id : live) {
            assertThat(status(id)).isEqualTo("SENDING");
            assertThat(Upstreams.received(Upstreams.greenMail("default"), id)).isEmpty();
        }
        for (String id : live) {
            awaitStatus(id, "SENT");
        }

        List<String> all = new ArrayList<>(expired);
        all.addAll(live);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String id : all) {
                assertThat(Upstreams.received(Upstreams.greenMail("default"), id)).as(id).hasSize(1);
            }
        });
        for (String id : all) {
            var row = row(id);
            assertThat(row.get("attempts")).as("the crashed attempt counts").isEqualTo(2);
            assertThat(row.get("lease_owner")).isNotEqualTo("crashed-instance");
            assertThat(eventTypes(id)).containsExactly("send");
        }
    }

    /** A row as a crashed worker leaves it: claimed (SENDING, attempt 1) with the given lease expiry. */
    private String insertLeftBehind(String subject, Instant leaseUntil) {
        UUID id = MessageIds.next();
        String mime = "From: app@crash.test\r\nTo: ivan@customer.test\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + id + "@crash.test>\r\n\r\nleft behind by a crash\r\n";
        Timestamp queued = Timestamp.from(Instant.now().minusSeconds(60));
        jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime,
                                      size_bytes, status, attempts, next_attempt_at, claim_rank, lease_owner, queued_at,
                                      updated_at)
                values (?, 'crash', 'transactional', 'app@crash.test', '["ivan@customer.test"]', ?, ?, ?,
                        'SENDING', 1, ?, ?, 'crashed-instance', ?, ?)""",
                id, subject, mime.getBytes(StandardCharsets.US_ASCII), mime.length(), Timestamp.from(leaseUntil),
                Timestamp.from(leaseUntil), queued, queued);
        return id.toString();
    }
}
