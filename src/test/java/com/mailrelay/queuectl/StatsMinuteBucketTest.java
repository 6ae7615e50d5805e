package com.mailrelay.queuectl;

import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /api/v1/stats?bucket=minute}: a send lands in the minute its event was written, the
 * default window is the last hour, and a window wider than six hours is refused.
 */
class StatsMinuteBucketTest extends RelayTestSupport {

    private static final String WORKSPACE = "w-overview";

    @Test
    void aSendIsCountedInItsMinute() {
        String id = submit(WORKSPACE, message("ops@overview.test", "minute-" + System.nanoTime() + "@customer.test",
                "Minute bucket"));
        awaitStatus(id, "SENT");
        Instant sentAt = jdbc.queryForObject("select created_at from events where message_id = ? and type = 'send'",
                Timestamp.class, UUID.fromString(id)).toInstant();
        Instant minute = sentAt.truncatedTo(ChronoUnit.MINUTES);
        long inThatMinute = jdbc.queryForObject("select count(*) from events where workspace_id = ? and type = 'send'"
                + " and created_at >= ? and created_at < ?", Long.class, WORKSPACE, Timestamp.from(minute),
                Timestamp.from(minute.plus(1, ChronoUnit.MINUTES)));

        HttpResponse<String> answer = get(key(WORKSPACE), "/api/v1/stats?bucket=minute&group_by=provider");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Map<String, Object> stats = read(answer.body());
        assertThat(stats).containsEntry("workspace", WORKSPACE).containsEntry("bucket", "minute");
        Instant since = Instant.parse((String) stats.get("since"));
        Instant until = Instant.parse((String) stats.get("until"));
        assertThat(ChronoUnit.MINUTES.between(since, until)).isEqualTo(60);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> series = (List<Map<String, Object>>) stats.get("series");
        Map<String, Object> bucket = series.stream()
                .filter(b -> b.get("start").equals(minute.toString()) && "default".equals(b.get("provider")))
                .findFirst().orElseThrow(() -> new AssertionError("no bucket of " + minute + " in " + series));
        assertThat(((Number) bucket.get("sent")).longValue()).isEqualTo(inThatMinute);
        // every bucket starts on a whole minute
        assertThat(series).allSatisfy(b -> assertThat(Instant.parse((String) b.get("start")).getEpochSecond() % 60)
                .isZero());
        // the admin key reads the same minute over every workspace: at least this workspace's sends
        Map<String, Object> all = read(get("admin-key", "/api/v1/stats?bucket=minute&since=" + minute + "&until="
                + minute.plus(1, ChronoUnit.MINUTES)).body());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> allSeries = (List<Map<String, Object>>) all.get("series");
        assertThat(allSeries).hasSize(1);
        assertThat(((Number) allSeries.get(0).get("sent")).longValue()).isGreaterThanOrEqualTo(inThatMinute);
    }

    @Test
    void aMinuteWindowSpansAtMostSixHours() {
        HttpResponse<String> wide = get(key(WORKSPACE), "/api/v1/stats?bucket=minute&since=2026-01-01T00:00:00Z"
                + "&until=2026-01-01T06:01:00Z");
        assertThat(wide.statusCode()).isEqualTo(400);
        assertThat(wide.body()).contains("\"field\":\"since\"", "6 hours", "minute buckets");
        assertThat(get(key(WORKSPACE), "/api/v1/stats?bucket=minute&since=2026-01-01T00:00:00Z"
                + "&until=2026-01-01T06:00:00Z").statusCode()).isEqualTo(200);
        assertThat(get(key(WORKSPACE), "/api/v1/stats?bucket=second").body()).contains("minute, hour or day");
    }
}
